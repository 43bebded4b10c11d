/**
 * Inspection routes under /_emulator/ (no token, no rate limit, not counted):
 *   GET  /_emulator/stats            the EmulatorStats object
 *   POST /_emulator/reset[?data=1]   zero the stats and rate-limit windows (and clear the store)
 *   GET  /_emulator/contacts         every contact as NDJSON, in list order
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nextRequestId } from '../request-id.js';
import { respond } from '../respond.js';
import type { PipelineDeps } from '../context.js';
import { resetStats, snapshotStats } from '../stats.js';

export function inspect(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse, route: string, query: URLSearchParams): void {
  const requestId = nextRequestId();
  const method = req.method ?? 'GET';
  if (method === 'GET' && route === 'stats') {
    respond(res, 200, JSON.stringify(snapshotStats(deps.stats)), requestId);
  } else if (method === 'POST' && route === 'reset') {
    resetStats(deps.stats);
    deps.limiter.reset();
    const data = query.get('data') === '1' || query.get('data') === 'true';
    if (data) deps.app.store.clear();
    respond(res, 200, JSON.stringify({ reset: true, data }), requestId);
  } else if (method === 'GET' && route === 'contacts') {
    const { store } = deps.app;
    const lines: string[] = [];
    for (let pos = 0; pos < store.end; pos++) if (store.at(pos)) lines.push(store.json(pos));
    respond(res, 200, lines.length ? lines.join('\n') + '\n' : '', requestId, {}, 'application/x-ndjson');
  } else {
    respond(res, 404, JSON.stringify({ errors: [`No inspection route ${method} /_emulator/${route}`], request_id: requestId, code: 'not_found' }), requestId);
  }
}

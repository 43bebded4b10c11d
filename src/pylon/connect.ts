import type { ConnectionOptions } from '../config.js';
import { createPylonClient, type ClientEvent, type PylonClientHandle, type PylonClientOptions } from './client.js';

/** The client every command uses, from resolved connection options. */
export function connect(connection: ConnectionOptions, extra: Partial<PylonClientOptions> = {}): PylonClientHandle {
  return createPylonClient({
    baseUrl: connection.baseUrl,
    token: connection.token,
    timeoutMs: connection.timeoutMs,
    rates: connection.rates,
    windowMs: connection.rateWindowMs,
    beforeWrite: connection.beforeWrite,
    ...extra,
  });
}

/** A wait Pylon asks for (a 429's Retry-After) at least this long is said: the progress line would sit still meanwhile, its ETA stale. */
export const LONG_WAIT_MS = 5_000;

/**
 * A client's `onEvent` that says, in one line, when Pylon asks to wait a long
 * time (rate limit), and when it refused a page size (the smaller one is used from then on). Several requests refused together pause their endpoint to
 * about the same time: only a wait that starts after the one said, or ends well
 * past it, is said again.
 */
export function noteLongWaits(onNote: (message: string) => void): (event: ClientEvent) => void {
  let saidUntil = 0;
  return (event) => {
    if (event.type === 'no-has-next-page') {
      onNote(`The server answered a page without pagination.has_next_page (${event.method} ${event.path}; Pylon's schema requires it): on every list and search, a non-empty cursor is read as a next page and none as the last`);
      return;
    }
    if (event.type === 'page-size') {
      onNote(`${event.method} ${event.path} refused a page of ${event.from} (${event.status ?? 400}: ${event.reason}); asking for ${event.to} a page from now on`);
      return;
    }
    if (event.type !== 'hold' || event.reason !== 'rate-limited' || event.holdMs < LONG_WAIT_MS) return;
    const now = Date.now();
    const until = now + event.holdMs;
    if (now < saidUntil && until < saidUntil + LONG_WAIT_MS) return;
    saidUntil = until;
    onNote(`Pylon asked to wait ${Math.ceil(event.holdMs / 1000)} s (rate limit on ${event.endpoint}); waiting`);
  };
}

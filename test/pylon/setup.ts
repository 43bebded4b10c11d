import type { ExecutionContext } from 'ava';
import { ENDPOINTS, type EndpointKey } from '../../src/config.js';
import { createPylonClient, type ClientEvent, type PylonClientHandle, type PylonClientOptions } from '../../src/pylon/client.js';
import type { PylonApiError } from '../../src/pylon/errors.js';
import { createScriptedServer, type Responder, type ScriptedServer } from '../helpers/scripted-server.js';

export const TOKEN = 'pylon_tok_S3CRET_9f8e7d6c5b4a';

export const UNPACED = Object.fromEntries(ENDPOINTS.map((e) => [e, Infinity])) as Record<EndpointKey, number>;

export interface Harness {
  server: ScriptedServer;
  client: PylonClientHandle;
  events: ClientEvent[];
}

/** A scripted server and a client bound to it (fast retries, unpaced unless told, 30 s timeout), both closed after the test. */
export async function harness(t: ExecutionContext, options: Partial<PylonClientOptions> = {}, fallback?: Responder): Promise<Harness> {
  const server = await createScriptedServer(fallback);
  const events: ClientEvent[] = [];
  const client = createPylonClient({
    baseUrl: server.url,
    token: TOKEN,
    // Far past any answer a busy machine delays (server and client share this process): at a load of 44, 2 s expired on
    // answers that were only slow, and the retry took the next scripted answer. A test about timeouts sets its own.
    timeoutMs: 30_000,
    rates: UNPACED,
    retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 4 },
    ...options,
    onEvent: (event) => {
      events.push(event);
      options.onEvent?.(event);
    },
  });
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  return { server, client, events };
}

/** Runs `promise`, which must reject with a PylonApiError, and returns the error. */
export async function apiError(t: ExecutionContext, promise: Promise<unknown>): Promise<PylonApiError> {
  const error = await t.throwsAsync(promise);
  if (error?.name !== 'PylonApiError') t.fail(`expected a PylonApiError, got ${String(error)}`);
  return error as PylonApiError;
}

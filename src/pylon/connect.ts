import type { ConnectionOptions } from '../config.js';
import { createPylonClient, type PylonClientHandle, type PylonClientOptions } from './client.js';

/** The client every command uses, from resolved connection options. */
export function connect(connection: ConnectionOptions, extra: Partial<PylonClientOptions> = {}): PylonClientHandle {
  return createPylonClient({
    baseUrl: connection.baseUrl,
    token: connection.token,
    timeoutMs: connection.timeoutMs,
    rates: connection.rates,
    windowMs: connection.rateWindowMs,
    ...extra,
  });
}

/**
 * Where a run goes: the API host, and the organisation and user the token
 * belongs to (`GET /me`). Plans record it, `apply` checks it, summaries and
 * audit records name it: a leftover PYLON_BASE_URL can no longer send a "real"
 * run to the emulator (or the reverse) unnoticed.
 */
import { createRequire } from 'node:module';
import type { PylonClient } from '../pylon/api.js';

export interface RunTarget {
  /** `host[:port]` of the base URL. */
  host: string;
  /** The base URL without a trailing slash. */
  baseUrl: string;
  /** From `GET /me`: absent when it could not be read. */
  organization?: { id: string; name: string };
  actor?: { id: string; email?: string };
}

const require = createRequire(import.meta.url);
/** This tool's version (package.json), recorded in plans and audit records. */
export const TOOL_VERSION: string = (require('../../package.json') as { version: string }).version;

export function hostOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}

export function targetOf(baseUrl: string): RunTarget {
  return { host: hostOf(baseUrl), baseUrl: baseUrl.replace(/\/+$/, '') };
}

/** The host, and the organisation and user from `GET /me` (an authentication failure rejects). */
export async function fetchTarget(client: PylonClient, baseUrl: string, signal?: AbortSignal): Promise<RunTarget> {
  const me = await client.me({ signal });
  const target: RunTarget = { ...targetOf(baseUrl), organization: { id: me.data.id, name: me.data.name } };
  if (me.data.user?.id) target.actor = { id: me.data.user.id, ...(me.data.user.email ? { email: me.data.user.email } : {}) };
  return target;
}

/** "api.usepylon.com (Acme Corp, org 1234…)": for summaries and prompts. */
export function describeTarget(target: RunTarget): string {
  return target.organization ? `${target.host} (organisation ${target.organization.name}, ${target.organization.id})` : target.host;
}

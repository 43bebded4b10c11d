/**
 * The saved plan of an `update … --plan-out plan.json`: exactly which contacts
 * change, each field from what to what, for which host and organisation, made
 * from which input, when, by which version. `pylon-contacts apply plan.json`
 * applies it without planning again.
 *
 * The file is sealed: `hash` is the sha256 of the canonical JSON of everything
 * else, so an edited plan (a changed value, an added contact) is refused. The
 * hash is not a signature: it catches edits and corruption, not a forger who
 * recomputes it (the audit log records the hash of every applied plan).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { inputNotFound } from '../input/not-found.js';
import { writeFileAtomic } from '../output/output-file.js';
import type { Filter } from '../pylon/types.js';
import { canonicalJson } from '../run/run-state.js';
import type { RunTarget } from './target.js';

export const PLAN_FORMAT = 'pylon-contacts-plan';

/** One field of one contact: its value when planned (`from`) and the value to set (`to`), as CSV cells. */
export interface PlannedChange {
  column: string;
  from: string;
  to: string;
  /** Applied without comparing the live value with `from` (undo rows that did not record the value set). */
  unchecked?: true;
  /** `email` of an undo row: the contact held `from` (the address the run set) before the run, spelt so: it is kept as a secondary address. */
  held?: string;
  /** `external_id` of a plan: the label (the source system) the id is set under, which `apply` sends it with. */
  label?: string;
  /** `account_external_id` of a plan: the ids of the account replaced and of the one set (`to` empty when not known). */
  accountId?: { from: string; to: string };
}

export interface PlannedContact {
  id: string;
  email?: string;
  /** The input line the change comes from (absent for removals; an undo file's physical line when it is applied). */
  line?: number;
  changes: PlannedChange[];
}

export type PlanSource =
  | { kind: 'file'; path: string; size: number; sha256: string }
  | { kind: 'where'; expression?: string; filter: Filter }
  | { kind: 'undo'; path: string; size: number; sha256: string };

export interface SavedPlanBody {
  format: typeof PLAN_FORMAT;
  version: 1;
  tool: { name: 'pylon-contacts'; version: string };
  createdAt: string;
  /** The command that made it, e.g. `update members.csv --set portal_role=admin --sync …` (secrets removed). */
  command: string;
  target: RunTarget;
  source: PlanSource;
  set: Record<string, string>;
  /** Desired-state sync: the values given to everyone else who held a --set value. */
  sync?: { others: Record<string, string> };
  counts: { changes: number; removals: number; unchanged: number; failed: number };
  /** Contacts the input asks to change. */
  changes: PlannedContact[];
  /** Sync only: contacts not in the input that lose the value (shown apart, guarded by --max-removals). */
  removals: PlannedContact[];
  /**
   * The guards the plan was made with (`--max-changes`; with --sync, `--max-removals`): apply enforces each
   * unless given its own. Absent when there is neither (a plan of an earlier version holds only maxChanges).
   */
  guard?: { maxChanges?: number; maxRemovals?: number };
}

export interface SavedPlan extends SavedPlanBody {
  /** sha256 (hex) of the canonical JSON of every other field. */
  hash: string;
}

/** An account as a plan's `account_external_id` names it: its external id, else its id (one without an external id), else none. */
export function accountCell(externalId: string, accountId: string): string {
  return externalId !== '' || accountId === '' ? externalId : `account ${accountId} (no external id)`;
}

export function planHash(body: SavedPlanBody): string {
  const { hash: _ignored, ...rest } = body as SavedPlanBody & { hash?: string };
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

export function sealPlan(body: SavedPlanBody): SavedPlan {
  return { ...body, hash: planHash(body) };
}

/** A new plan, made now by this version of the tool, sealed. */
export function newPlan(input: Omit<SavedPlanBody, 'format' | 'version' | 'tool' | 'createdAt' | 'counts'> & { toolVersion: string; unchanged: number; failed: number }): SavedPlan {
  const { toolVersion, unchanged, failed, ...rest } = input;
  return sealPlan({
    format: PLAN_FORMAT,
    version: 1,
    tool: { name: 'pylon-contacts', version: toolVersion },
    createdAt: new Date().toISOString(),
    ...rest,
    counts: { changes: rest.changes.length, removals: rest.removals.length, unchanged, failed },
  });
}

/** The input file a plan was made from: its path, size and sha256 (stdin cannot be fingerprinted). */
export function fileSource(path: string, fingerprint: (path: string) => { size: number; sha256: string }): PlanSource {
  return path === '-' ? { kind: 'file', path: '-', size: 0, sha256: '' } : { kind: 'file', path: resolve(path), ...fingerprint(path) };
}

/** Writes the plan atomically (temporary sibling, fsync, rename): a reader sees no half-written plan. */
export async function writePlanFile(path: string, plan: SavedPlan): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(plan, null, 1) + '\n');
}

/** Reads and checks a plan file: a plan of this tool, of a version it knows, not edited since it was written. */
export async function readPlanFile(path: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ConfigError('INPUT_UNREADABLE', `${path} is a directory: name a plan file (written by \`update … --plan-out plan.json\`)`, { option: '<plan>', cause: error });
    if (code === 'ENOENT') throw inputNotFound(path, 'Plan file', '<plan>');
    throw new ConfigError('INPUT_UNREADABLE', `Cannot read the plan file: ${path}`, { option: '<plan>', cause: error });
  }
  return parsePlan(text, path);
}

/**
 * How to make a plan instead of `path`. A contacts file given where a plan goes (`apply admins.csv`)
 * is named as update's input, and the plan gets a name of its own (a plan written over the contacts
 * file would lose it).
 */
function howToMakePlan(path: string): string {
  if (/\.(csv|tsv|txt|xlsx|xlsm|ndjson|jsonl)(\.gz)?$/i.test(path)) {
    return `It looks like a contacts file: make a plan of it with \`update ${path} --set … --plan-out plan.json\`, then \`apply plan.json\`.`;
  }
  return 'Make one with `update <contacts file> --set … --plan-out plan.json` (or `update --where … --set …`), then `apply plan.json`.';
}

/**
 * Why a plan's text that is not JSON is a plan cut short, or undefined when it is not one: it starts as a plan
 * does and its JSON ends early (a copy that stopped, `head -c`, a full disk). Saying "not JSON" sent users looking
 * for another file. The command that made it is read from what is left, when it is there, to make it again.
 */
function cutShort(text: string, error: unknown): string | undefined {
  const head = text.trimStart();
  if (!head.startsWith('{') || !/^\{\s*"format"\s*:\s*"pylon-contacts-plan"/.test(head)) return undefined;
  const message = error instanceof Error ? error.message : '';
  const at = /at position (\d+)/.exec(message);
  const atEnd = /end of JSON input/.test(message) || (at !== null && Number(at[1]) >= text.trimEnd().length - 1);
  if (!atEnd) return undefined;
  let command: string | undefined;
  const quoted = /"command"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(text);
  try {
    command = quoted ? (JSON.parse(quoted[1]!) as string) : undefined;
  } catch {
    command = undefined;
  }
  const again = command ? `Make it again with \`pylon-contacts ${command}\` (the command that made it), then review it with \`show\`.` : 'Make it again with the `update … --plan-out` command that made it, then review it with `show`.';
  return `it ends after ${text.length.toLocaleString('en-US')} bytes, before its JSON does (cut short: a copy that stopped early, or a full disk). Nothing in it was used. ${again}`;
}

export function parsePlan(text: string, path: string): SavedPlan {
  let plan: SavedPlan;
  try {
    plan = JSON.parse(text) as SavedPlan;
  } catch (error) {
    const cut = cutShort(text, error);
    if (cut) throw new ConfigError('PLAN_INVALID', `${path} is an incomplete plan file: ${cut}`, { option: '<plan>' });
    throw new ConfigError('PLAN_INVALID', `${path} is not a plan file (not JSON). ${howToMakePlan(path)}`, { option: '<plan>' });
  }
  if (!plan || typeof plan !== 'object' || plan.format !== PLAN_FORMAT) {
    throw new ConfigError('PLAN_INVALID', `${path} is not a pylon-contacts plan (no "format": "${PLAN_FORMAT}").`, { option: '<plan>' });
  }
  if (plan.version !== 1) {
    throw new ConfigError('PLAN_INVALID', `${path} is a plan of format version ${String(plan.version)}; this pylon-contacts reads version 1.`, { option: '<plan>' });
  }
  if (typeof plan.hash !== 'string' || planHash(plan) !== plan.hash) {
    throw new ConfigError(
      'PLAN_EDITED',
      `${path} was changed after it was written (its content no longer matches its hash). Nothing was applied; make a new plan with --plan-out.`,
      { option: '<plan>' },
    );
  }
  if (!Array.isArray(plan.changes) || !Array.isArray(plan.removals) || !plan.target?.baseUrl) {
    throw new ConfigError('PLAN_INVALID', `${path} is missing its changes, removals or target.`, { option: '<plan>' });
  }
  return plan;
}

/**
 * Refuses a plan made for another host or organisation, or older than `maxAgeMs`.
 * `target` is where this run goes (its organisation from `GET /me`); without its
 * organisation (`targetOf(baseUrl)`, before any call) the host and age are checked.
 */
export function checkPlanTarget(plan: SavedPlan, target: RunTarget, options: { now: number; maxAgeMs: number; path: string; /** --max-age as the user gave it, shown as given. */ maxAge?: string }): void {
  if (plan.target.host !== target.host) {
    throw new ConfigError(
      'PLAN_OTHER_TARGET',
      `${options.path} was made for ${plan.target.host}, and this run goes to ${target.host} (check --base-url, --region and PYLON_BASE_URL). Nothing was applied.`,
      { option: '--base-url' },
    );
  }
  const planned = plan.target.organization;
  const here = target.organization;
  if (planned && here && planned.id !== here.id) {
    throw new ConfigError(
      'PLAN_OTHER_TARGET',
      `${options.path} was made for organisation ${planned.name} (${planned.id}); this token belongs to ${here.name} (${here.id}). Nothing was applied.`,
      { option: '--token' },
    );
  }
  const created = Date.parse(plan.createdAt);
  const age = options.now - created;
  if (!Number.isFinite(created) || age > options.maxAgeMs) {
    throw new ConfigError(
      'PLAN_STALE',
      `${options.path} was made ${Number.isFinite(created) ? `${formatAge(age)} ago (${plan.createdAt})` : 'at an unknown time'}, more than --max-age ${options.maxAge?.trim() || formatAge(options.maxAgeMs)}. Make a new plan, or raise --max-age. Nothing was applied.`,
      { option: '--max-age' },
    );
  }
}

export function formatAge(ms: number): string {
  // Under two minutes in seconds: a plan made 40 s ago was not made "1 min" ago, nor one made 20 s ago "0 min" ago.
  if (ms < 119_500) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** `--max-age`: a number with a unit, `30s`, `90m`, `24h`, `2d`, or a bare number of hours (`0.5` is 30 minutes). */
export function parseMaxAge(value: string | number | undefined): number | undefined {
  if (value === undefined) return 24 * 3_600_000;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(String(value));
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, '': 3_600_000 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd' | ''];
  return Number(m[1]) * unit;
}

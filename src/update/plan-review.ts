/**
 * A saved plan as a reviewer reads it (`pylon-contacts show <plan>`): where it
 * goes, how old it is, each contact's fields before → after, the removals of a
 * `--sync` apart, the totals per kind of change, and how long `apply` takes at
 * the paced rate. `reviewPlan` is the data (`--json`), `renderPlanReview` the text.
 */
import type { EndpointKey } from '../rates.js';
import { describeSeconds, pacedSeconds } from '../rates.js';
import { accountCell, type PlannedContact, type SavedPlan } from './plan-file.js';
import { describeTarget } from './target.js';
import { counted } from '../plural.js';

export interface PlanTotal {
  column: string;
  from: string;
  to: string;
  /** `external_id`: the label (the system) the id is set under. */
  label?: string;
  /** Contacts with this change. */
  count: number;
}

export interface PlanReview {
  path: string;
  hash: string;
  createdAt: string;
  /** Seconds since the plan was made (negative when the clock of its maker ran ahead). */
  ageSeconds: number;
  tool: SavedPlan['tool'];
  command: string;
  target: SavedPlan['target'];
  source: SavedPlan['source'];
  counts: SavedPlan['counts'];
  /** The guards the plan was made with, which apply enforces unless given its own (absent: none recorded). */
  guard?: SavedPlan['guard'];
  changes: PlannedContact[];
  removals: PlannedContact[];
  totals: { changes: PlanTotal[]; removals: PlanTotal[] };
  /** The calls `apply` makes for this plan, and how long they take at the paced rates. */
  calls: Partial<Record<EndpointKey, number>>;
  etaSeconds: number;
  rates: Partial<Record<EndpointKey, number>>;
  rateWindowMs: number;
}

/**
 * The calls `apply` makes: `GET /me` and the custom fields once, one search per
 * `readBatch` contacts to read their live values, then, for each contact to change, one
 * `GET /contacts/{id}` just before its PATCH (Pylon has no conditional PATCH: that read is
 * what keeps an edit made during the run) and the PATCH. GETs have their own bucket, at
 * the PATCHes' rate, so they add calls but not time.
 */
export function applyCalls(contacts: number, readBatch: number): Partial<Record<EndpointKey, number>> {
  if (contacts === 0) return { me: 1, customFields: 1 };
  return { me: 1, customFields: 1, search: Math.ceil(contacts / readBatch), get: contacts, patch: contacts };
}

/** "member → admin × 950"-style totals, most frequent first. */
export function planTotals(contacts: readonly PlannedContact[]): PlanTotal[] {
  const totals = new Map<string, PlanTotal>();
  for (const contact of contacts) {
    for (const change of contact.changes) {
      const from = change.accountId ? accountCell(change.from, change.accountId.from) : change.from;
      const key = JSON.stringify([change.column, from, change.to, change.label]);
      const total = totals.get(key);
      if (total) total.count++;
      else totals.set(key, { column: change.column, from, to: change.to, ...(change.label !== undefined ? { label: change.label } : {}), count: 1 });
    }
  }
  return [...totals.values()].sort((a, b) => b.count - a.count || a.column.localeCompare(b.column));
}

export function reviewPlan(
  plan: SavedPlan,
  options: { path: string; now: number; rates: Readonly<Record<EndpointKey, number>>; rateWindowMs: number; readBatch: number },
): PlanReview {
  const calls = applyCalls(plan.changes.length + plan.removals.length, options.readBatch);
  const rates: Partial<Record<EndpointKey, number>> = {};
  for (const endpoint of Object.keys(calls) as EndpointKey[]) rates[endpoint] = options.rates[endpoint];
  return {
    path: options.path,
    hash: plan.hash,
    createdAt: plan.createdAt,
    ageSeconds: Math.round((options.now - Date.parse(plan.createdAt)) / 1000),
    tool: plan.tool,
    command: plan.command,
    target: plan.target,
    source: plan.source,
    counts: plan.counts,
    ...(plan.guard ? { guard: plan.guard } : {}),
    changes: plan.changes,
    removals: plan.removals,
    totals: { changes: planTotals(plan.changes), removals: planTotals(plan.removals) },
    calls,
    etaSeconds: Math.ceil(pacedSeconds(calls, options.rates, options.rateWindowMs)),
    rates,
    rateWindowMs: options.rateWindowMs,
  };
}

const n = (value: number) => value.toLocaleString('en-US');
const cell = (value: string) => (value === '' ? '(empty)' : JSON.stringify(value));

function describeSource(source: SavedPlan['source']): string {
  switch (source.kind) {
    case 'file':
      return source.path === '-' ? 'stdin' : `${source.path} (${n(source.size)} bytes, sha256 ${source.sha256.slice(0, 12)})`;
    case 'undo':
      return `undo file ${source.path} (sha256 ${source.sha256.slice(0, 12)})`;
    case 'where':
      return `contacts where ${source.expression ?? JSON.stringify(source.filter)}`;
  }
}

/** The guards the plan recorded, which apply enforces unless given its own, or what apply checks without them. */
function describeGuard(guard: SavedPlan['guard'], removals: number): string {
  const parts = [
    ...(guard?.maxChanges === undefined ? [] : [`--max-changes ${n(guard.maxChanges)}`]),
    ...(guard?.maxRemovals === undefined ? [] : [`--max-removals ${n(guard.maxRemovals)}`]),
  ];
  const unrecorded = removals > 0 && guard?.maxRemovals === undefined ? '; --max-removals not recorded: apply takes its own, default 10' : '';
  if (parts.length === 0) return `none recorded (apply checks only a --max-changes it is given${unrecorded})`;
  return `${parts.join(', ')} (recorded when the plan was made: apply stops before writing anything beyond ${parts.length === 1 ? 'it' : 'them'} unless given its own${unrecorded})`;
}

function describeAge(seconds: number): string {
  return seconds < 0 ? `in the future by ${describeSeconds(-seconds)} (check the clocks)` : `${describeSeconds(seconds)} ago`;
}

function contactLines(contacts: readonly PlannedContact[]): string[] {
  const lines: string[] = [];
  for (const contact of contacts) {
    const who = contact.email ? `${contact.email} (${contact.id})` : contact.id;
    const where = contact.line === undefined ? '' : `, line ${contact.line}`;
    lines.push(`  ${who}${where}`);
    for (const change of contact.changes) {
      // An account replaced that has no external id reads as "" in `from`: named by its id, so a move off it is not read as "no account".
      const from = change.accountId ? accountCell(change.from, change.accountId.from) : change.from;
      lines.push(`      ${columnOf(change)}: ${change.unchecked ? '(not checked)' : cell(from)} → ${cell(change.to)}`);
    }
  }
  return lines;
}

function totalLines(totals: readonly PlanTotal[]): string[] {
  return totals.map((t) => `  ${columnOf(t)}: ${cell(t.from)} → ${cell(t.to)}  × ${n(t.count)}`);
}

/** A change's column as the reviewer reads it: an external id names the system (label) it is set under. */
function columnOf(change: { column: string; label?: string }): string {
  return change.column === 'external_id' && change.label !== undefined ? `external_id (label ${JSON.stringify(change.label)})` : change.column;
}

/** The review as text: the header first, every contact, then the totals and the ETA last, where the eye lands. */
export function renderPlanReview(review: PlanReview): string {
  const lines = [
    `Plan ${review.path}`,
    `  hash ${review.hash}`,
    `  made ${describeAge(review.ageSeconds)} (${review.createdAt}) by pylon-contacts ${review.tool.version}`,
    `  command: ${review.command}`,
    `  target: ${describeTarget(review.target)}`,
    `  source: ${describeSource(review.source)}`,
    `  guard: ${describeGuard(review.guard, review.removals.length)}`,
    '',
    `Changes: ${counted(review.changes.length, 'contact')}`,
    ...contactLines(review.changes),
  ];
  if (review.removals.length > 0) {
    lines.push('', `Removals (--sync): ${counted(review.removals.length, 'contact')} not in the input ${review.removals.length === 1 ? 'loses' : 'lose'} the value`, ...contactLines(review.removals));
  }
  lines.push('', 'Totals:');
  lines.push(...totalLines(review.totals.changes));
  if (review.removals.length > 0) lines.push('  removals:', ...totalLines(review.totals.removals).map((l) => `  ${l}`));
  lines.push(
    `  ${counted(review.counts.changes, 'contact')} ${review.counts.changes === 1 ? 'changes' : 'change'}, ${counted(review.counts.removals, 'removal')}; when planned ${n(review.counts.unchanged)} ${review.counts.unchanged === 1 ? 'was' : 'were'} unchanged and ${counted(review.counts.failed, 'row')} failed`,
  );
  const calls = Object.entries(review.calls)
    .map(([endpoint, count]) => `${endpoint} ${n(count ?? 0)}`)
    .join(', ');
  const per = review.rateWindowMs === 60_000 ? 'minute' : `${n(review.rateWindowMs)} ms`;
  const paced = Object.entries(review.rates)
    .filter(([endpoint]) => endpoint === 'patch' || endpoint === 'search' || endpoint === 'get')
    .map(([endpoint, rate]) => `${endpoint} ${n(rate ?? 0)}`)
    .join(', ');
  lines.push(`ETA: about ${describeSeconds(review.etaSeconds)} to apply (${calls} calls; paced at ${paced || 'the configured rates'} per ${per})`);
  return lines.join('\n') + '\n';
}

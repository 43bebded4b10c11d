/**
 * Pylon's search filter grammar for contacts: leaf nodes {field, operator,
 * value | values}, compound nodes {operator: and|or, subfilters}, depth ≤ 3.
 * A filter compiles once into a predicate plus, where an index helps (id,
 * email, account_id with equals/in), a sorted list of candidate positions.
 */
import { CUSTOM_FIELD_OPERATORS } from '../pylon/custom-field-operators.js';
import type { Contact } from '../pylon/types.js';
import { badRequest } from './api-error.js';
import { MSG } from './messages.js';
import type { ContactStore } from './store.js';
import { isDate, isRfc3339 } from './validate.js';

export const MAX_FILTER_DEPTH = 3;
/** Above this many candidates an account_id index lookup is slower than scanning from the cursor. */
const ACCOUNT_INDEX_MAX = 20_000;

export interface CompiledFilter {
  test(contact: Contact): boolean;
  /** Sorted candidate positions (a superset of matches), or undefined to scan. */
  candidates(): number[] | undefined;
}

/** Operators per custom-field type (Pylon lists none; the table the CLI checks filters against). */
const CUSTOM_OPS: Readonly<Record<string, readonly string[]>> = CUSTOM_FIELD_OPERATORS;

/** Built-in fields and their documented operators. */
const BUILTIN_OPS: Record<string, string[]> = {
  id: ['equals', 'in', 'not_in'],
  email: ['equals', 'in', 'not_in', 'string_contains'],
  name: ['equals', 'in', 'not_in', 'string_contains'],
  account_id: ['equals', 'in', 'not_in'],
};

const ALL_OPS = new Set([
  'equals', 'not_equals', 'contains', 'does_not_contain', 'in', 'not_in', 'and', 'or', 'time_is_after', 'time_is_before',
  'time_range', 'string_contains', 'string_does_not_contain', 'is_set', 'is_unset', 'greater_than', 'less_than',
  'greater_than_or_equals', 'less_than_or_equals',
]);

type Getter = (c: Contact) => readonly string[];
type Eq = (a: string, b: string) => boolean;

const exact: Eq = (a, b) => a === b;
const caseless: Eq = (a, b) => a.toLowerCase() === b.toLowerCase();
const numeric: Eq = (a, b) => Number(a) === Number(b);
const EMPTY: readonly string[] = [];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toTime(value: string): number {
  return isDate(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
}

function timeOperand(value: string): number {
  if (!isRfc3339(value) && !isDate(value)) throw badRequest(MSG.filterBadTime(value));
  return toTime(value);
}

function numberOperand(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw badRequest(MSG.filterBadNumber(value));
  return n;
}

export interface FilterRules {
  /** Lenient: is_set/is_unset on account_id (seen in a third-party client) are accepted. */
  lenient: boolean;
  /** Most entries of `values` (0 = no cap). */
  maxValues: number;
}

const STRICT_FILTERS: FilterRules = { lenient: false, maxValues: 0 };

export function compileFilter(raw: unknown, store: ContactStore, rules: FilterRules = STRICT_FILTERS): CompiledFilter {
  return compileNode(raw, store, 1, rules);
}

function compileNode(node: unknown, store: ContactStore, depth: number, rules: FilterRules): CompiledFilter {
  if (depth > MAX_FILTER_DEPTH) throw badRequest(MSG.filterDepth);
  if (!isObject(node)) throw badRequest(MSG.filterRequired);
  const op = node.operator;
  if (typeof op !== 'string' || !ALL_OPS.has(op)) throw badRequest(MSG.filterOperator(op));
  if (op === 'and' || op === 'or') {
    const subs = node.subfilters;
    if (!Array.isArray(subs) || subs.length === 0) throw badRequest(MSG.filterSubfilters(op));
    const children = subs.map((s) => compileNode(s, store, depth + 1, rules));
    return op === 'and' ? andOf(children) : orOf(children);
  }
  if (rules.maxValues > 0 && Array.isArray(node.values) && node.values.length > rules.maxValues) {
    throw badRequest(MSG.tooManyFilterValues(node.values.length, rules.maxValues));
  }
  return compileLeaf(node, op, store, rules);
}

function andOf(children: CompiledFilter[]): CompiledFilter {
  return {
    test: (c) => children.every((f) => f.test(c)),
    candidates() {
      let best: number[] | undefined;
      for (const child of children) {
        const list = child.candidates();
        if (list && (!best || list.length < best.length)) best = list;
      }
      return best;
    },
  };
}

function orOf(children: CompiledFilter[]): CompiledFilter {
  return {
    test: (c) => children.some((f) => f.test(c)),
    candidates() {
      const merged = new Set<number>();
      for (const child of children) {
        const list = child.candidates();
        if (!list) return undefined;
        for (const pos of list) merged.add(pos);
      }
      return [...merged].sort((a, b) => a - b);
    },
  };
}

interface LeafField {
  getter: Getter;
  eq: Eq;
  type: string;
  /** Whether string_contains ignores case (always, except email under emailMatch=sensitive). */
  fold?: boolean;
}

function leafField(node: Record<string, unknown>, op: string, store: ContactStore, rules: FilterRules): LeafField {
  const field = node.field;
  if (typeof field !== 'string' || field === '') throw badRequest(MSG.filterField);
  const custom = store.org.field(field);
  const allowed = BUILTIN_OPS[field] ?? (custom ? CUSTOM_OPS[custom.type] ?? CUSTOM_OPS.select : undefined);
  if (!allowed) throw badRequest(MSG.filterUnknownField(field));
  const lenientExtra = rules.lenient && field === 'account_id' && (op === 'is_set' || op === 'is_unset');
  if (!allowed.includes(op) && !lenientExtra) throw badRequest(MSG.filterOperatorForField(op, field));
  switch (field) {
    case 'id':
      return { getter: (c) => [c.id], eq: exact, type: 'id' };
    case 'name':
      return { getter: (c) => (c.name === undefined ? EMPTY : [c.name]), eq: exact, type: 'text' };
    case 'account_id':
      return { getter: (c) => (c.account ? [c.account.id] : EMPTY), eq: exact, type: 'id' };
    case 'email':
      return {
        getter: store.matching.matchSecondaryEmails ? (c) => c.emails ?? EMPTY : (c) => (c.email ? [c.email] : EMPTY),
        eq: store.matching.emailMatch === 'insensitive' ? caseless : exact,
        type: 'email',
        fold: store.matching.emailMatch === 'insensitive',
      };
    default: {
      const type = custom!.type;
      const getter: Getter = (c) => {
        const v = c.custom_fields?.[field];
        return v === undefined ? EMPTY : v.values ?? (v.value === undefined ? EMPTY : [v.value]);
      };
      return { getter, eq: type === 'number' || type === 'decimal' ? numeric : exact, type };
    }
  }
}

function needValue(node: Record<string, unknown>, op: string): string {
  if (typeof node.value !== 'string') throw badRequest(MSG.filterValue(op));
  return node.value;
}

function needValues(node: Record<string, unknown>, op: string): string[] {
  const values = node.values;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw badRequest(MSG.filterValues(op));
  return values as string[];
}

function compileLeaf(node: Record<string, unknown>, op: string, store: ContactStore, rules: FilterRules): CompiledFilter {
  const { getter, eq, type, fold = true } = leafField(node, op, store, rules);
  const field = node.field as string;
  const any = (c: Contact, pred: (v: string) => boolean) => getter(c).some(pred);
  const noIndex = () => undefined;
  switch (op) {
    case 'equals': {
      const x = needValue(node, op);
      if (type === 'number' || type === 'decimal') numberOperand(x);
      if (type === 'date' || type === 'datetime') {
        const t = timeOperand(x);
        return { test: (c) => any(c, (v) => toTime(v) === t), candidates: noIndex };
      }
      return { test: (c) => any(c, (v) => eq(v, x)), candidates: () => indexed(store, field, [x]) };
    }
    case 'not_equals': {
      const x = needValue(node, op);
      return { test: (c) => !any(c, (v) => eq(v, x)), candidates: noIndex };
    }
    case 'in': {
      const xs = needValues(node, op);
      return { test: (c) => any(c, (v) => xs.some((x) => eq(v, x))), candidates: () => indexed(store, field, xs) };
    }
    case 'not_in': {
      const xs = needValues(node, op);
      return { test: (c) => !any(c, (v) => xs.some((x) => eq(v, x))), candidates: noIndex };
    }
    case 'contains':
    case 'does_not_contain': {
      const xs = typeof node.value === 'string' ? [node.value] : needValues(node, op);
      const has = (c: Contact) => any(c, (v) => xs.includes(v));
      return { test: op === 'contains' ? has : (c) => !has(c), candidates: noIndex };
    }
    case 'string_contains':
    case 'string_does_not_contain': {
      const raw = needValue(node, op);
      const x = fold ? raw.toLowerCase() : raw;
      const has = (c: Contact) => any(c, (v) => (fold ? v.toLowerCase() : v).includes(x));
      return { test: op === 'string_contains' ? has : (c) => !has(c), candidates: noIndex };
    }
    case 'is_set':
      return { test: (c) => getter(c).length > 0, candidates: noIndex };
    case 'is_unset':
      return { test: (c) => getter(c).length === 0, candidates: noIndex };
    case 'time_is_after':
    case 'time_is_before': {
      const t = timeOperand(needValue(node, op));
      const after = op === 'time_is_after';
      return { test: (c) => any(c, (v) => (after ? toTime(v) > t : toTime(v) < t)), candidates: noIndex };
    }
    case 'time_range': {
      const xs = node.values;
      if (!Array.isArray(xs) || xs.length !== 2 || xs.some((v) => typeof v !== 'string')) throw badRequest(MSG.filterTimeRange);
      const [start, end] = [timeOperand(xs[0]), timeOperand(xs[1])];
      return { test: (c) => any(c, (v) => toTime(v) >= start && toTime(v) <= end), candidates: noIndex };
    }
    default: {
      const n = numberOperand(needValue(node, op));
      const cmp: Record<string, (a: number) => boolean> = {
        greater_than: (a) => a > n,
        less_than: (a) => a < n,
        greater_than_or_equals: (a) => a >= n,
        less_than_or_equals: (a) => a <= n,
      };
      return { test: (c) => any(c, (v) => cmp[op](Number(v))), candidates: noIndex };
    }
  }
}

/** Candidate positions for equals/in on an indexed field; undefined when the field has no index. */
function indexed(store: ContactStore, field: string, values: readonly string[]): number[] | undefined {
  const out = new Set<number>();
  if (field === 'id') {
    for (const v of values) {
      const pos = store.positionOf(v);
      if (pos !== undefined) out.add(pos);
    }
  } else if (field === 'email') {
    for (const v of values) for (const pos of store.emailCandidates(v)) out.add(pos);
  } else if (field === 'account_id') {
    let total = 0;
    for (const v of values) total += store.accountCandidates(v).size;
    if (total > ACCOUNT_INDEX_MAX) return undefined;
    for (const v of values) for (const pos of store.accountCandidates(v)) out.add(pos);
  } else {
    return undefined;
  }
  return [...out].sort((a, b) => a - b);
}

/** Fuzzy text (`search_text`): case-insensitive substring of the name or any email. */
export function textMatcher(text: string): (c: Contact) => boolean {
  const needle = text.toLowerCase();
  return (c) => (c.name ?? '').toLowerCase().includes(needle) || (c.emails ?? []).some((e) => e.toLowerCase().includes(needle));
}

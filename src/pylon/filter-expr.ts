/**
 * A small text grammar for Pylon search filters (the CLI's `--where` / `--filter`):
 *
 *   field=value          equals
 *   field!=value         not_equals
 *   field~text           string_contains
 *   field!~text          string_does_not_contain
 *   field in a|b|c       in
 *   field not in a|b     not_in
 *   field is set         is_set
 *   field is unset       is_unset
 *
 * Several expressions joined with ` and ` become one `and` filter. Fields are
 * contact fields or custom-field slugs (letters, digits, `_`, `.`, `-`). A value
 * may be double-quoted as a JSON string to hold spaces around it, `|`, or the
 * word "and". Text starting with `{` is taken as a raw JSON filter.
 *
 *   email~@acme.com and account_id=acc_1
 *   email in a@x.com|b@x.com
 */
import { ConfigError } from '../errors.js';
import { editDistance } from '../edit-distance.js';
import { CUSTOM_FIELD_OPERATORS } from './custom-field-operators.js';
import type { Filter, FilterOperator } from './types.js';

const OPERATORS: ReadonlySet<string> = new Set<FilterOperator>([
  'equals', 'not_equals', 'contains', 'does_not_contain', 'in', 'not_in', 'and', 'or',
  'time_is_after', 'time_is_before', 'time_range', 'string_contains', 'string_does_not_contain',
  'is_set', 'is_unset', 'greater_than', 'less_than', 'greater_than_or_equals', 'less_than_or_equals',
]);

/** Pylon rejects filter trees deeper than this. */
const MAX_DEPTH = 3;

const FIELD = String.raw`[A-Za-z_][\w.-]*`;
const SYMBOLIC = new RegExp(String.raw`^(${FIELD})\s*(!=|!~|=|~)\s*(.*)$`, 's');
const LIST = new RegExp(String.raw`^(${FIELD})\s+(not\s+in|in)\s+(.+)$`, 'is');
const PRESENCE = new RegExp(String.raw`^(${FIELD})\s+is\s+(set|unset)$`, 'i');

const SYMBOL_OPERATORS: Record<string, FilterOperator> = {
  '=': 'equals',
  '!=': 'not_equals',
  '~': 'string_contains',
  '!~': 'string_does_not_contain',
};

const GRAMMAR =
  'field=value, field!=value, field~text, field!~text, field in a|b, field not in a|b, field is set, field is unset, joined with " and ", or a JSON filter starting with {';

function fail(option: string, text: string, problem: string): ConfigError {
  return new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${problem} in ${JSON.stringify(text)} (expected ${GRAMMAR})`, {
    option,
  });
}

/**
 * Splits `text` outside double quotes (a backslash escapes inside them) wherever
 * `separatorAt(i)` gives a separator length > 0 at position i.
 */
function splitOutsideQuotes(text: string, separatorAt: (i: number) => number): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\' && quoted) i += 1;
    else if (c === '"') quoted = !quoted;
    else if (!quoted) {
      const length = separatorAt(i);
      if (length > 0) {
        parts.push(text.slice(start, i));
        i += length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Splits on ` and ` (any case, any whitespace) outside double quotes. */
function splitAnd(text: string): string[] {
  const separatorAt = (i: number) => (/\s/.test(text[i]!) ? /^\s+and(?:\s+|$)/i.exec(text.slice(i))?.[0].length ?? 0 : 0);
  return splitOutsideQuotes(text, separatorAt).map((p) => p.trim());
}

/** Splits on `|` outside double quotes. */
function splitBar(text: string): string[] {
  return splitOutsideQuotes(text, (i) => (text[i] === '|' ? 1 : 0));
}

/** `single`: the field and symbol of a one-value expression (`field=value`…), whose value may not hold a bare `|`. */
function value(raw: string, fullText: string, option: string, list = false, single?: readonly [string, string]): string {
  const text = raw.trim();
  if (text.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // reported below
    }
    throw fail(option, fullText, `bad quoted value ${text}`);
  }
  if (text === '') throw fail(option, fullText, 'missing value');
  // Words of other grammars would otherwise be read as part of the value: `email=a or email=b`
  // matches nobody, and `email!=a or email!=b` everybody. Refused instead; a quoted value may hold them.
  const joiner = /\s(or)(?:\s|$)|(&&|\|\|)/i.exec(text);
  if (joiner) {
    throw fail(option, fullText, `${JSON.stringify(joiner[1] ?? joiner[2])} does not join expressions (only " and " does; for one of several values write field in a|b, or quote a value that holds it: field="a or b")`);
  }
  // `email=a|b` would look for the one address "a|b" and match nobody, silently: `|` separates the values of `in` only.
  if (single && text.includes('|')) {
    const [field, op] = single;
    const quoted = `${field}${op}${JSON.stringify(text)}`;
    const set =
      op === '=' ? `for any of several values write ${field} in ${text}` :
      op === '!=' ? `for none of several values write ${field} not in ${text}` :
      `"${op}" takes one text; for several, use a JSON filter with "operator":"or"`;
    throw fail(option, fullText, `"|" is not "or" after "${op}": it separates the values of "in" only (${set}; quote a value that holds a |: ${quoted})`);
  }
  if (list && text.includes(',')) {
    throw fail(option, fullText, `a comma in ${JSON.stringify(text)} (the values of "in" are separated with |: field in a|b; quote a value that holds a comma)`);
  }
  return text;
}

function parseOne(expression: string, fullText: string, option: string): Filter {
  const presence = PRESENCE.exec(expression);
  if (presence) return { field: presence[1], operator: presence[2]!.toLowerCase() === 'set' ? 'is_set' : 'is_unset' };
  const list = LIST.exec(expression);
  if (list) {
    const values = splitBar(list[3]!).map((v) => value(v, fullText, option, true));
    return { field: list[1], operator: /^not/i.test(list[2]!) ? 'not_in' : 'in', values };
  }
  const symbolic = SYMBOLIC.exec(expression);
  if (symbolic) return { field: symbolic[1], operator: SYMBOL_OPERATORS[symbolic[2]!]!, value: value(symbolic[3]!, fullText, option, false, [symbolic[1]!, symbolic[2]!]) };
  throw fail(option, fullText, expression === '' ? 'an empty expression' : `cannot read ${JSON.stringify(expression)}`);
}

function checkJsonFilter(node: unknown, depth: number, text: string, option: string): Filter {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw fail(option, text, 'a filter node is not an object');
  const f = node as Record<string, unknown>;
  if (typeof f.operator !== 'string' || !OPERATORS.has(f.operator)) throw fail(option, text, `unknown operator ${JSON.stringify(f.operator)}`);
  if (depth > MAX_DEPTH) throw fail(option, text, `filters nest at most ${MAX_DEPTH} levels`);
  if (f.operator === 'and' || f.operator === 'or') {
    if (!Array.isArray(f.subfilters) || f.subfilters.length === 0) throw fail(option, text, `"${f.operator}" needs a non-empty subfilters array`);
    f.subfilters.forEach((sub) => checkJsonFilter(sub, depth + 1, text, option));
  } else if (typeof f.field !== 'string' || f.field === '') {
    throw fail(option, text, `"${f.operator}" needs a field`);
  }
  return f as unknown as Filter;
}

/** Parses `--where`/`--filter` text into a Pylon filter. Throws ConfigError naming `option` on bad input. */
export function parseFilterExpression(text: string, option = '--where'): Filter {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw fail(option, text, `bad JSON (${(error as Error).message})`);
    }
    return checkJsonFilter(parsed, 1, text, option);
  }
  if (trimmed === '') throw fail(option, text, 'an empty filter');
  const filters = splitAnd(trimmed).map((part) => parseOne(part, text, option));
  return filters.length === 1 ? filters[0]! : { operator: 'and', subfilters: filters };
}

/** The contact fields Pylon's search filters on (its docs; `name` since the July 2026 revision). */
export const FILTERABLE_FIELDS: readonly string[] = ['id', 'email', 'account_id', 'name'];
/** Contact fields Pylon documents as not filterable: named in the error instead of "unknown". */
const NOT_FILTERABLE: ReadonlySet<string> = new Set(['portal_role', 'portal_role_id', 'phone_numbers', 'phone_number', 'external_ids', 'emails', 'avatar_url', 'account_external_id']);

/**
 * Checks every field a filter names against what Pylon's search accepts: the
 * filterable contact fields and the organisation's custom-field slugs. A field
 * outside them would end as the server's 400 after the run began; this makes it a
 * usage error (exit 2) that names the field and the nearest valid one.
 */
export function checkFilterFields(filter: Filter, customSlugs: readonly string[], option = '--where'): void {
  const valid = [...FILTERABLE_FIELDS, ...customSlugs];
  const visit = (node: Filter): void => {
    if (node.operator === 'and' || node.operator === 'or') {
      node.subfilters?.forEach(visit);
      return;
    }
    const field = node.field ?? '';
    if (valid.includes(field)) return;
    const bare = field.startsWith('custom.') ? field.slice('custom.'.length) : undefined;
    let hint: string;
    if (bare !== undefined && customSlugs.includes(bare)) hint = `custom fields are filtered by their bare slug: write ${bare}`;
    // update can name its contacts in a file instead; export can only export them all.
    else if (NOT_FILTERABLE.has(field)) hint = `Pylon's search cannot filter on ${field}; ${option === '--where' ? 'select the contacts with a file instead (pylon-contacts update <file>)' : 'export without --filter and select on the column afterwards'}`;
    else {
      const nearest = valid.map((v) => ({ v, d: editDistance(field, v) })).sort((a, b) => a.d - b.d)[0];
      hint = nearest && nearest.d <= Math.max(2, Math.floor(field.length / 3)) ? `did you mean ${nearest.v}?` : 'no such contact field or custom field in this organisation';
    }
    // No full stop after a question ("did you mean email?").
    const stop = hint.endsWith('?') ? '' : '.';
    const list = customSlugs.length > 0 ? `${FILTERABLE_FIELDS.join(', ')} or a custom-field slug (${customSlugs.slice(0, 8).join(', ')}${customSlugs.length > 8 ? ', …' : ''})` : FILTERABLE_FIELDS.join(', ');
    throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: cannot filter on ${JSON.stringify(field.slice(0, 60))}: ${hint}${stop} Filterable: ${list}.`, { option });
  };
  visit(filter);
}

/** The operators Pylon's search documents for each contact field (its OpenAPI description of POST /contacts/search). */
export const FIELD_OPERATORS: Readonly<Record<string, readonly FilterOperator[]>> = {
  id: ['equals', 'in', 'not_in'],
  email: ['equals', 'in', 'not_in', 'string_contains'],
  account_id: ['equals', 'in', 'not_in'],
  name: ['equals', 'in', 'not_in', 'string_contains'],
};
/** A multiselect custom field is multi-valued: the spec's operators for those are contains and does_not_contain (one option each). */
const MULTISELECT_OPERATORS: readonly FilterOperator[] = CUSTOM_FIELD_OPERATORS.multiselect!;

/** The operators whose values a select or multiselect field matches against its option slugs. */
const OPTION_OPERATORS: readonly FilterOperator[] = ['equals', 'not_equals', 'in', 'not_in', 'contains', 'does_not_contain'];

/** How the short grammar writes each operator (for messages). */
const SHORT_FORM: Partial<Record<FilterOperator, string>> = {
  equals: '=', not_equals: '!=', string_contains: '~', string_does_not_contain: '!~', in: 'in', not_in: 'not in', is_set: 'is set', is_unset: 'is unset',
};

function depthOf(node: Filter): number {
  return node.operator === 'and' || node.operator === 'or' ? 1 + Math.max(0, ...(node.subfilters ?? []).map(depthOf)) : 1;
}

/**
 * Checks a parsed `--where`/`--filter` against what Pylon's search accepts (checkFilterFields) and
 * rewrites each expression into an operator the field allows where one means exactly the same:
 * `email!=x` is `not_in [x]` (not_equals is not allowed on email), and on a multiselect field `=`,
 * `!=`, `in` and `not in` are contains / does_not_contain of each option. An operator with no such
 * equivalent (`email!~x`, `interests~api`) is a usage error naming the ones the field takes, before
 * the first search. Other custom fields take the operators of their type (custom-field-operators.ts);
 * one outside them is refused the same way, and a type the table does not know is sent as written.
 * A select or multiselect value that is an option's label is sent as the option's slug (said through
 * onNote); one that is neither is refused, listing the option slugs.
 */
export function resolveFilter(
  filter: Filter,
  definitions: ReadonlyArray<{ slug: string; type: string; select_metadata?: { options: ReadonlyArray<{ slug: string; label: string }> } }>,
  option = '--where',
  onNote?: (message: string) => void,
): Filter {
  checkFilterFields(filter, definitions.map((d) => d.slug), option);
  const types = new Map(definitions.map((d) => [d.slug, d.type]));
  const options = new Map(definitions.map((d) => [d.slug, d.select_metadata?.options ?? []]));
  const noted = new Set<string>();
  // Search matches a select or multiselect field by its option slugs: a label (tier=Gold for the option gold)
  // would match nothing and the run would end empty with exit 0, so it is sent as its option's slug, said in
  // one line; a value that is neither is refused, listing the option slugs.
  const optionValue = (field: string, value: string): string => {
    const choices = options.get(field) ?? [];
    if (choices.length === 0 || choices.some((o) => o.slug === value)) return value;
    const byLabel = choices.find((o) => o.label === value) ?? choices.find((o) => o.label.toLowerCase() === value.toLowerCase()) ?? choices.find((o) => o.slug.toLowerCase() === value.toLowerCase());
    if (!byLabel) {
      const listed = choices.slice(0, 20).map((o) => (o.label === o.slug ? o.slug : `${o.slug} (${o.label})`)).join(', ');
      throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: ${field} has no option ${JSON.stringify(value.slice(0, 60))}; Pylon's search matches it by option value: ${listed}${choices.length > 20 ? ', …' : ''}.`, { option });
    }
    if (!noted.has(`${field}\n${value}`)) {
      noted.add(`${field}\n${value}`);
      onNote?.(`${option}: ${field} ${JSON.stringify(value)} is taken as the option ${byLabel.slug} (${byLabel.label}); search matches options by value.`);
    }
    return byLabel.slug;
  };
  const withOptionValues = (node: Filter): Filter => {
    const field = node.field!;
    const type = types.get(field);
    // Only the operators that compare whole values; one the field does not take is refused below as such.
    if ((type !== 'select' && type !== 'multiselect') || !OPTION_OPERATORS.includes(node.operator)) return node;
    return {
      ...node,
      ...(node.value !== undefined ? { value: optionValue(field, node.value) } : {}),
      ...(node.values !== undefined ? { values: node.values.map((v) => optionValue(field, v)) } : {}),
    };
  };
  const refuse = (node: Filter, takes: string): never => {
    const short = SHORT_FORM[node.operator];
    const written = short && short !== node.operator ? `${short} (${node.operator})` : node.operator;
    throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: cannot filter ${node.field} with ${written}: Pylon's search takes ${node.field} with ${takes}.`, { option });
  };
  const leaf = (field: string, operator: FilterOperator, value: string): Filter => ({ field, operator, value });
  const visit = (node: Filter): Filter => {
    if (node.operator === 'and' || node.operator === 'or') return { ...node, subfilters: (node.subfilters ?? []).map(visit) };
    node = withOptionValues(node);
    const field = node.field!;
    const builtin = FIELD_OPERATORS[field];
    if (builtin) {
      if (builtin.includes(node.operator)) return node;
      if (node.operator === 'not_equals' && node.value !== undefined) return { field, operator: 'not_in', values: [node.value] };
      const forms = builtin.map((op) => SHORT_FORM[op]!);
      return refuse(node, `${[...forms.slice(0, 1), '!=', ...forms.slice(1)].join(', ')} only (the API allows ${builtin.join(', ')} on it; != is sent as not_in)`);
    }
    const type = types.get(field) ?? '';
    if (type !== 'multiselect') {
      const allowed = CUSTOM_FIELD_OPERATORS[type];
      if (!allowed || allowed.includes(node.operator)) return node;
      // The grammar's forms first; operators it has no form for are written in a JSON filter.
      const forms = allowed.filter((op) => SHORT_FORM[op]).map((op) => SHORT_FORM[op]!);
      const json = allowed.filter((op) => !SHORT_FORM[op]);
      return refuse(node, `${forms.join(', ')}${json.length > 0 ? ` and, in a JSON filter, ${json.join(', ')}` : ''} only: it is a ${type} field`);
    }
    if (MULTISELECT_OPERATORS.includes(node.operator)) return node;
    const values = node.value !== undefined ? [node.value] : (node.values ?? []);
    const has = node.operator === 'equals' || node.operator === 'in';
    if ((has || node.operator === 'not_equals' || node.operator === 'not_in') && values.length > 0) {
      const each = values.map((v) => leaf(field, has ? 'contains' : 'does_not_contain', v));
      // Has any of the options / has none of them.
      return each.length === 1 ? each[0]! : { operator: has ? 'or' : 'and', subfilters: each };
    }
    return refuse(node, '= and != (has / lacks an option), in and not in (has any / none of the options), is set, is unset: it is a multiselect field, matched by whole option slugs');
  };
  const resolved = visit(filter);
  if (depthOf(resolved) > MAX_DEPTH) {
    throw new ConfigError('CONFIG_INVALID_OPTION', `Invalid option \`${option}\`: a multiselect "in" or "not in" is sent as one filter per option joined with "or"/"and", and here that nests deeper than the ${MAX_DEPTH} levels Pylon's search allows; list fewer options or nest less.`, { option });
  }
  return resolved;
}

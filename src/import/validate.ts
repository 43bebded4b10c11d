import { splitMulti, type ImportColumn } from '../columns.js';
import { lostDigitsId, lostDigitsMessage, parseSpreadsheetDate, parseSpreadsheetNumber } from './spreadsheet-values.js';
import { PORTAL_ROLES, type CustomFieldDefinition, type PortalRole } from '../pylon/types.js';
import { describeInvisible } from '../csv/decode.js';
import type { ColumnPlan } from './columns.js';
import { splitPhoneList, telUri } from './phone.js';
import type { DesiredContact, DesiredCustomValue, RowIssue, RowIssueCode } from './desired.js';

/**
 * One CSV row → the contact it asks for, plus every problem found in it. Pure and
 * total: it never throws. The column plan is compiled once into one small function
 * per column, so a row costs a loop over its cells.
 *
 * Cells are trimmed. An empty cell leaves the field unchanged (undefined); a cell
 * equal to the clear token clears it (null), where Pylon allows clearing.
 * When `issues` is not empty, `desired` holds what could be read and must not be written.
 */

export interface ValidationContext {
  customFields: ReadonlyMap<string, CustomFieldDefinition>;
  /** A cell equal to this (e.g. `#N/A`) clears the field. */
  clearToken?: string;
  /**
   * Skip the checks that go beyond Pylon's spec and docs (their messages end
   * with BEYOND_SPEC): the value is sent as written and Pylon decides.
   */
  lenient?: boolean;
  /** Counts the dates (no time) a datetime field took as midnight UTC, for the run's one warning. */
  datesAsMidnight?: { count: number };
  /**
   * The clear token in the external id column takes the id held under the row's label off the contact. Only an undo file
   * (apply.ts) asks for it: its row puts back a contact that had no id under that label before the run added one.
   */
  externalIdClears?: boolean;
}

/**
 * The largest request body this tool sends: the emulator answers a larger one with 413 (docs/errors-emulator.md);
 * Pylon documents no limit. A row whose values reach it (less room for the keys and the account or external id the
 * run may add) fails before any write, in the dry run as in the real run, rather than being counted as created by
 * the one and refused by the other.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
const BODY_ROOM_BYTES = 16 * 1024;

/** Ends the message of every check Pylon's spec and docs do not state (see docs/errors.md). */
export const BEYOND_SPEC = " [a check of this CLI beyond Pylon's spec and docs; --lenient sends the value as written]";

export interface ValidatedRow {
  desired: DesiredContact;
  issues: RowIssue[];
}

export type RowValidator = (cells: readonly string[]) => ValidatedRow;

interface Row extends ValidatedRow {
  issue(code: RowIssueCode, field: string, message: string): void;
}

/** What a column does with a non-empty cell, and with the clear token. */
interface ColumnRule {
  index: number;
  header: string;
  set(value: string, row: Row): void;
  clear(row: Row): void;
}

const cache = new WeakMap<ColumnPlan, { context: ValidationContext; validator: RowValidator }>();

/** validateRow with the compiled plan cached per (plan, context). */
export function validateRow(cells: readonly string[], plan: ColumnPlan, context: ValidationContext): ValidatedRow {
  let entry = cache.get(plan);
  if (entry?.context !== context) {
    entry = { context, validator: compileValidator(plan, context) };
    cache.set(plan, entry);
  }
  return entry.validator(cells);
}

export function compileValidator(plan: ColumnPlan, context: ValidationContext): RowValidator {
  const rules: ColumnRule[] = [];
  const lenient = context.lenient === true;
  for (const { index, header, target } of plan.columns) {
    if (target.kind === 'standard') rules.push({ index, header, ...standardRule(target.column, header, lenient, context.externalIdClears === true) });
    else if (target.kind === 'custom') {
      const definition = context.customFields.get(target.slug) ?? target.definition;
      rules.push({ index, header, ...customRule(definition, header, lenient, context.datesAsMidnight) });
    }
  }
  const headerOf = (column: ImportColumn) => {
    const index = plan.indexOf[column];
    return index === undefined ? column : plan.columns[index]!.header;
  };
  const checkAccounts = plan.indexOf.account_id !== undefined && plan.indexOf.account_external_id !== undefined;
  const checkPrimary = plan.indexOf.primary_phone_number !== undefined && plan.indexOf.phone_numbers !== undefined;
  const clearToken = context.clearToken === undefined || context.clearToken === '' ? undefined : context.clearToken;

  return (cells) => {
    const issues: RowIssue[] = [];
    const row: Row = {
      desired: { custom: {} },
      issues,
      issue: (code, field, message) => issues.push({ code, field, message }),
    };
    let bodyBytes = 0;
    let largest: { header: string; bytes: number } | undefined;
    for (const rule of rules) {
      const cell = cells[rule.index];
      if (cell === undefined) continue;
      const value = cell.trim();
      if (value === '') continue;
      if (value === clearToken) rule.clear(row);
      else rule.set(value, row);
      // Most values are short: only a long one is measured as the JSON body will hold it.
      if (value.length < 1024) bodyBytes += value.length * 3;
      else {
        const bytes = Buffer.byteLength(JSON.stringify(value));
        bodyBytes += bytes;
        if (largest === undefined || bytes > largest.bytes) largest = { header: rule.header, bytes };
      }
    }
    if (largest !== undefined && bodyBytes > MAX_BODY_BYTES - BODY_ROOM_BYTES) {
      row.issue(
        'ROW_TOO_LARGE',
        largest.header,
        `The row's values take about ${bodyBytes.toLocaleString('en-US')} bytes as JSON, over the ${MAX_BODY_BYTES.toLocaleString('en-US')}-byte (1 MiB) request body this tool sends (its own limit and the emulator's; Pylon documents none): column ${largest.header} alone takes ${largest.bytes.toLocaleString('en-US')} bytes; shorten it`,
      );
    }
    const { desired } = row;
    if (checkAccounts && desired.account_id !== undefined && desired.account_external_id !== undefined) {
      row.issue('ROW_ACCOUNT_CONFLICT', headerOf('account_external_id'), `Set either ${headerOf('account_id')} or ${headerOf('account_external_id')}, not both`);
    }
    if (checkPrimary && typeof desired.primary_phone_number === 'string' && desired.phone_numbers !== undefined) {
      if (!(desired.phone_numbers ?? []).includes(desired.primary_phone_number)) {
        row.issue(
          'ROW_PRIMARY_PHONE_NOT_LISTED',
          headerOf('primary_phone_number'),
          `Primary phone number ${desired.primary_phone_number} (column ${headerOf('primary_phone_number')}) is not among the numbers in column ${headerOf('phone_numbers')}`,
        );
      }
    }
    return { desired, issues };
  };
}

type Rule = Pick<ColumnRule, 'set' | 'clear'>;

function cannotClear(header: string, what: string): Rule['clear'] {
  return (row) => row.issue('ROW_CANNOT_CLEAR', header, `Column ${header}: ${what} cannot be cleared through Pylon's API; leave the cell empty to keep it`);
}

/** The lenient email rule (the same as the emulator's lenient one): one @ with text on both sides, no spaces. */
const LOOSE_EMAIL = /^[^\s@]+@[^\s@]+$/;

function standardRule(column: ImportColumn, header: string, lenient: boolean, externalIdClears = false): Rule {
  switch (column) {
    case 'id':
      return { set: (v, row) => void (row.desired.id = v), clear: cannotClear(header, 'a contact id') };
    case 'name':
      return { set: (v, row) => void (row.desired.name = v), clear: cannotClear(header, 'the name') };
    case 'email':
      return {
        set(v, row) {
          // NFC: a decomposed é (e + U+0301) is the same address as é, sent and matched as one.
          row.desired.email = v.normalize('NFC');
          const problem = emailProblem(v, lenient);
          if (problem !== undefined) row.issue('ROW_INVALID_EMAIL', header, `Invalid email ${JSON.stringify(v)} in column ${header}${problem}`);
        },
        clear: cannotClear(header, 'the primary email'),
      };
    case 'emails':
      return {
        set(v, row) {
          const emails = splitMulti(v.normalize('NFC'));
          const bad = emails.filter((e) => emailProblem(e, lenient) !== undefined);
          if (bad.length > 0) row.issue('ROW_INVALID_EMAIL', header, `Invalid email${bad.length > 1 ? 's' : ''} ${bad.map((e) => JSON.stringify(e)).join(', ')} in column ${header} (separate addresses with ;)${bad.map((e) => emailProblem(e, lenient)).find((p) => p) ?? ''}`);
          row.desired.emails = emails;
        },
        clear: cannotClear(header, 'the email list'),
      };
    case 'account_id':
      return { set: (v, row) => void (row.desired.account_id = v), clear: (row) => void (row.desired.account_id = null) };
    case 'external_id':
      return {
        set(v, row) {
          row.desired.external_id = v;
          // Not checked by Pylon, and not lenient: a wrong id would take over another record.
          if (lostDigitsId(v)) row.issue('ROW_XLSX_LOST_DIGITS', header, lostDigitsMessage(v, header));
        },
        clear: externalIdClears ? (row) => void (row.desired.external_id_cleared = true) : cannotClear(header, 'an external id'),
      };
    case 'external_id_label':
      return { set: (v, row) => void (row.desired.external_id_label = v), clear: cannotClear(header, 'an external id label') };
    case 'account_id_if_unset':
      return { set: (v, row) => void (row.desired.account_id_if_unset = v), clear: cannotClear(header, 'a suggested account') };
    case 'account_external_id':
      return {
        set(v, row) {
          row.desired.account_external_id = v;
          if (lostDigitsId(v)) row.issue('ROW_XLSX_LOST_DIGITS', header, lostDigitsMessage(v, header));
        },
        clear: cannotClear(header, 'the account (by external id; clear account_id instead)'),
      };
    case 'avatar_url':
      return {
        set(v, row) {
          if (isAvatarUrl(v)) row.desired.avatar_url = v;
          else row.issue('ROW_INVALID_AVATAR', header, `Invalid avatar URL ${JSON.stringify(v)} in column ${header}: expected an http(s) URL of a .png, .jpg or .jpeg image`);
        },
        clear: (row) => void (row.desired.avatar_url = null),
      };
    case 'portal_role':
      return {
        set(v, row) {
          const role = v.toLowerCase() as PortalRole;
          if (PORTAL_ROLES.includes(role)) row.desired.portal_role = role;
          // The older docs revision lets portal_role take a custom role slug (the spec's enum does not).
          else if (lenient) row.desired.portal_role = v as PortalRole;
          else row.issue('ROW_INVALID_ROLE', header, `Invalid portal role ${JSON.stringify(v)} in column ${header}: expected one of ${PORTAL_ROLES.join(', ')} (use portal_role_id for a custom role)${BEYOND_SPEC}`);
        },
        clear: cannotClear(header, 'the portal role'),
      };
    case 'portal_role_id':
      return { set: (v, row) => void (row.desired.portal_role_id = v), clear: (row) => void (row.desired.portal_role_id = null) };
    case 'phone_numbers':
      return {
        set(v, row) {
          const numbers: string[] = [];
          const bad: string[] = [];
          for (const part of splitPhoneList(v)) {
            const digits = normalizePhone(part);
            if (digits === undefined) bad.push(part);
            else if (!numbers.includes(digits)) numbers.push(digits);
          }
          if (bad.length > 0) row.issue('ROW_INVALID_PHONE', header, `Invalid phone number${bad.length > 1 ? 's' : ''} ${bad.map((p) => JSON.stringify(p)).join(', ')} in column ${header}: expected 1 to 15 digits (spaces, dashes, dots, parentheses and a leading + are allowed; separate numbers with ;)`);
          else row.desired.phone_numbers = numbers;
        },
        clear: (row) => void (row.desired.phone_numbers = null),
      };
    case 'primary_phone_number':
      return {
        set(v, row) {
          const digits = normalizePhone(v);
          if (digits !== undefined) row.desired.primary_phone_number = digits;
          else row.issue('ROW_INVALID_PHONE', header, `Invalid phone number ${JSON.stringify(v)} in column ${header}: expected 1 to 15 digits`);
        },
        clear: (row) => void (row.desired.primary_phone_number = null),
      };
  }
}

/** A custom field's rule: read-only check, then the type's parser. */
function customRule(definition: CustomFieldDefinition, header: string, lenient: boolean, datesAsMidnight?: { count: number }): Rule {
  const { slug } = definition;
  const strict = customParser(definition, datesAsMidnight);
  // Lenient: a value refused only by a format Pylon does not document is sent as written.
  const parse: CustomParser = lenient && BEYOND_SPEC_TYPES.has(definition.type) ? (v) => {
    const parsed = strict(v);
    return typeof parsed === 'string' ? { value: v } : parsed;
  } : strict;
  if (definition.is_read_only) {
    // A read-only value is kept for comparison: equal to what Pylon holds, it is
    // no write (an export re-imports as it is); different, the planner refuses it.
    const refuse: Rule['clear'] = (row) =>
      row.issue('ROW_CUSTOM_FIELD_READ_ONLY', header, `Column ${header}: custom field ${slug} is read-only${definition.source ? ` (synced from ${definition.source})` : ''}; leave the cell empty`);
    return {
      set(v, row) {
        const parsed = parse(v);
        (row.desired.readOnly ??= {})[slug] = parsed === undefined || typeof parsed === 'string' ? { value: v } : parsed;
      },
      clear: refuse,
    };
  }
  return {
    set(v, row) {
      const parsed = parse(v);
      if (typeof parsed === 'string') row.issue('ROW_CUSTOM_FIELD_INVALID', header, `Column ${header}: ${parsed}`);
      else if (parsed !== undefined) row.desired.custom[slug] = parsed;
    },
    clear: (row) => void (row.desired.custom[slug] = null),
  };
}

/** Types whose format checks are this CLI's reading, not Pylon's docs (which type every value as a string). */
const BEYOND_SPEC_TYPES = new Set(['number', 'decimal', 'boolean', 'date', 'datetime', 'url']);

/** Cell → value, or a string explaining why it is invalid, or undefined for "nothing to set". */
type CustomParser = (value: string) => Exclude<DesiredCustomValue, null> | string | undefined;

function customParser(definition: CustomFieldDefinition, datesAsMidnight?: { count: number }): CustomParser {
  const shown = (v: string) => JSON.stringify(v);
  switch (definition.type) {
    case 'select':
    case 'multiselect': {
      const options = definition.select_metadata?.options ?? [];
      const bySlug = new Map(options.map((o) => [o.slug, o.slug]));
      const loose = new Map<string, string>();
      for (const o of options) {
        loose.set(o.label.trim().toLowerCase(), o.slug);
        loose.set(o.slug.toLowerCase(), o.slug);
      }
      const lookup = (v: string) => bySlug.get(v) ?? loose.get(v.toLowerCase());
      const valid = options.map((o) => (o.label && o.label !== o.slug ? `${o.slug} (${o.label})` : o.slug)).join(', ') || 'none';
      if (definition.type === 'select') {
        return (v) => {
          const option = lookup(v);
          return option === undefined ? `${shown(v)} is not an option of ${definition.slug}; valid options: ${valid}` : { value: option };
        };
      }
      return (v) => {
        const values: string[] = [];
        const bad: string[] = [];
        for (const part of splitMulti(v)) {
          const option = lookup(part);
          if (option === undefined) bad.push(shown(part));
          else if (!values.includes(option)) values.push(option);
        }
        if (bad.length > 0) return `${bad.join(', ')} ${bad.length > 1 ? 'are not options' : 'is not an option'} of ${definition.slug}; valid options: ${valid} (separate values with ;)`;
        return values.length > 0 ? { values } : undefined;
      };
    }
    case 'number':
      return (v) => {
        const match = /^([+-]?)0*(\d+)$/.exec(v);
        if (!match) {
          // Spreadsheet forms (1,250 · 1 250) where they have one reading.
          const sheet = parseSpreadsheetNumber(v, true);
          return sheet.ok ? { value: sheet.value } : `${sheet.reason}${BEYOND_SPEC}`;
        }
        const digits = match[2]!;
        return { value: (match[1] === '-' && digits !== '0' ? '-' : '') + digits };
      };
    case 'decimal':
      return (v) => {
        const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v);
        if (!match || (match[2] === '' && !match[3])) {
          // Spreadsheet forms (1,250.5 · 1.250,5 · 1,5) where they have one reading.
          const sheet = parseSpreadsheetNumber(v, false);
          return sheet.ok ? { value: sheet.value } : `${sheet.reason}${BEYOND_SPEC}`;
        }
        const [, sign, whole, fraction] = match;
        return { value: `${sign === '-' ? '-' : ''}${whole || '0'}${fraction ? '.' + fraction : ''}` };
      };
    case 'boolean':
      return (v) => {
        const lower = v.toLowerCase();
        if (lower === 'true' || lower === 'yes' || lower === '1') return { value: 'true' };
        if (lower === 'false' || lower === 'no' || lower === '0') return { value: 'false' };
        return `${shown(v)} is not a boolean (true/false, yes/no, 1/0)${BEYOND_SPEC}`;
      };
    case 'date':
      return (v) => {
        if (isDate(v)) return { value: v };
        // Spreadsheet forms (13/2/2024 · 2.11.2024 · 2 Nov 2024) where they have one reading.
        const sheet = parseSpreadsheetDate(v);
        return sheet.ok ? { value: sheet.value } : `${sheet.reason}${BEYOND_SPEC}`;
      };
    case 'datetime':
      return (v) => {
        const iso = parseDateTime(v);
        if (iso !== undefined) return { value: iso };
        // A date alone (an XLSX date cell, a CSV's 2024-11-02) is that day's start in UTC, as ECMAScript and RFC 3339's
        // full-date read it, rather than a failed row; the run says once how many were read so.
        const day = isDate(v) ? v : undefined;
        if (day !== undefined) {
          if (datesAsMidnight) datesAsMidnight.count++;
          return { value: `${day}T00:00:00.000Z` };
        }
        // A date-time without a zone names no instant: which one is the source's to say, never guessed here.
        if (ZONELESS_DATE_TIME.test(v)) {
          return `${shown(v)} has no time zone, so it names no instant: add Z if it is UTC (${v.replace(' ', 'T')}${/:\d{2}:\d{2}/.test(v) ? '' : ':00'}Z) or its offset (e.g. +01:00), or export it from the source with one${BEYOND_SPEC}`;
        }
        return `${shown(v)} is not a date-time (RFC 3339, e.g. 2026-01-31T09:30:00Z)${BEYOND_SPEC}`;
      };
    case 'url':
      return (v) => (isHttpUrl(v) ? { value: v } : `${shown(v)} is not an http(s) URL${BEYOND_SPEC}`);
    default:
      return (v) => ({ value: v });
  }
}

const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/**
 * Why a value is not an email to store, or undefined. Invisible characters (a
 * zero-width space pasted from a web page) and a `mailto:` prefix would be
 * stored as part of the address, and a later clean import of the same address
 * would then create a second contact: the row fails and says what to remove.
 */
export function emailProblem(value: string, lenient = false): string | undefined {
  const invisible = describeInvisible(value);
  if (invisible.length > 0) return `: it holds invisible characters (${invisible.join(', ')}); delete them and import the row again`;
  if (/^mailto:/i.test(value)) return ': write the address without "mailto:"';
  const compatibility = compatibilityCharacters(value);
  if (compatibility.length > 0) {
    return `: it holds ${compatibility.map(([c, plain]) => `${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, a full-width or compatibility form of ${JSON.stringify(plain)})`).join(', ')}; type the address with ordinary characters (${JSON.stringify(value.normalize('NFKC'))}) and import the row again`;
  }
  if (lenient ? LOOSE_EMAIL.test(value) : isEmail(value)) return undefined;
  // What address books and exports put in one cell: `Jane Doe <jane@x.test>`, `a@x.test; b@x.test`, Google's `a@x ::: b@x`.
  const named = /^(.*?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>$/.exec(value);
  if (named && isEmail(named[2]!)) return `: a display name is not part of the address; write ${JSON.stringify(named[2])} alone (the name belongs in the name column)`;
  const several = value.split(/\s*(?::::|[;,\s])\s*/).filter((part) => part !== '');
  if (several.length > 1 && several.every(isEmail)) {
    return `: one address per cell; keep ${JSON.stringify(several[0])} here and put ${several.slice(1).map((e) => JSON.stringify(e)).join(', ')} in an emails column (secondary addresses, separated by ;)`;
  }
  // One @ with text on both sides passes Pylon's spec; the dotted domain is this CLI's own rule.
  return LOOSE_EMAIL.test(value) ? BEYOND_SPEC : '';
}

/**
 * The characters of an email that Unicode compatibility (NFKC) reads as others, with what it reads them as:
 * `ａlice@acme.example` (a full-width ａ, as an input method types it) would otherwise be a valid address of its
 * own, a second contact beside alice@acme.example. No real address needs them, so the row fails rather than
 * being stored either way.
 */
function compatibilityCharacters(value: string): Array<[string, string]> {
  const nfc = value.normalize('NFC');
  if (nfc === value.normalize('NFKC')) return [];
  const found: Array<[string, string]> = [];
  for (const c of nfc) {
    const plain = c.normalize('NFKC');
    if (plain !== c && !found.some(([seen]) => seen === c)) found.push([c, plain]);
  }
  return found;
}

/**
 * The email of a row that is not validated (the reader failed it, or a map's filter left it out), for the reports: its
 * email cell, trimmed; but when the row's cells do not line up with the header (a ragged CSV line, whose cells may have
 * shifted), only a value that is an address, so a results file never names another cell as the row's email.
 */
export function unvalidatedEmail(cell: string | undefined, aligned: boolean): string | undefined {
  const email = cell?.trim();
  if (!email) return undefined;
  return aligned || emailProblem(email, true) === undefined ? email : undefined;
}

/** Practical email check: one @, a non-empty local part, a dotted domain, no spaces. */
export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}

/**
 * Phone number → its digits (spaces, dashes, dots, parentheses and a leading + removed); undefined unless 1–15 digits
 * remain. A tel URI (`tel:+14155550142`) is read as the number it holds; one with an extension (`;ext=204`) is refused,
 * as `x204` is here: the digits alone would drop it unsaid.
 */
export function normalizePhone(value: string): string | undefined {
  const tel = telUri(value);
  if (tel?.extension) return undefined;
  const digits = (tel?.number ?? value).replace(/[\s\-.()]/g, '').replace(/^\+/, '');
  return /^\d{1,15}$/.test(digits) ? digits : undefined;
}

function parseUrl(value: string): URL | undefined {
  if (!/^https?:\/\//i.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export function isHttpUrl(value: string): boolean {
  return parseUrl(value) !== undefined && !/\s/.test(value);
}

export function isAvatarUrl(value: string): boolean {
  const url = parseUrl(value);
  return url !== undefined && !/\s/.test(value) && /\.(png|jpe?g)$/i.test(url.pathname);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date and a time of day with no zone (`2024-11-02T14:30:00`, `2024-11-02 14:30`): what spreadsheets and many exports write. */
const ZONELESS_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  return m !== null && validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** RFC 3339 date-time → ISO 8601 in UTC (`toISOString`); undefined when invalid. */
export function parseDateTime(value: string): string | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (!validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (m[9] === undefined) {
    // UTC already: build the ISO form directly (Date.parse truncates fractions to milliseconds too).
    const millis = ((m[7] ?? '.').slice(1) + '000').slice(0, 3);
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${millis}Z`;
  }
  if (Number(m[9]) > 23 || Number(m[10]) > 59) return undefined;
  const time = Date.parse(value.replace(' ', 'T').toUpperCase());
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}


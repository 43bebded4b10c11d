/**
 * Typed rows as PostgreSQL COPY text (`COPY … FROM STDIN`, text format): one
 * switch over the columns' kinds, decided once per load; plain text (most
 * values) goes through a regex test, not a replace. Dates, timestamps and decimals
 * are schema.ts's canonical texts, as in the JSON lines.
 */
import { formatDate, formatDecimal, formatTimestamp, type ColumnKind, type TypedColumn, type TypedRow } from '../schema.js';
import { hasLoneSurrogateEscape, LONE_SURROGATE_ESCAPES, nulAsStored } from '../lone-surrogate.js';

/**
 * What COPY's text format escapes: the backslash, and the tab, newline and carriage return that separate fields and rows; and
 * the NUL, which PostgreSQL text cannot hold (no escape makes it one: the whole COPY failed), so U+FFFD takes its place.
 */
const COPY_SPECIAL = /[\\\t\n\r\0]/;
const COPY_SPECIALS = /[\\\t\n\r\0]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\ufffd' };

/** Set when a NUL was stored as U+FFFD: copyRows reads it (and clears it) once a row. */
let replacedNul = false;

function escapeChar(c: string): string {
  if (c === '\0') replacedNul = true;
  return COPY_ESCAPES[c]!;
}

export function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, escapeChar) : text;
}

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIALS = /["\\]/g;

/** A list as an array literal, each element double-quoted (so commas, braces, spaces and the word NULL stay text). */
function arrayLiteral(list: readonly string[]): string {
  if (list.length === 0) return '{}';
  let text = '{';
  for (let j = 0; j < list.length; j += 1) {
    const element = list[j]!;
    text += (j === 0 ? '"' : ',"') + (ARRAY_SPECIAL.test(element) ? element.replace(ARRAY_SPECIALS, (c) => '\\' + c) : element) + '"';
  }
  return escapeCopy(text + '}');
}

/**
 * An id list (jsonb) as JSON text. PostgreSQL's jsonb refuses a lone surrogate's `\ud800` escape (the whole COPY failed), so the
 * half goes back into the text as itself: the COPY text is then sent as UTF-8 with U+FFFD in its place, as text columns' halves
 * are, and the values digest sees it as it sees theirs (copy-digest.ts: said once, hashed as U+FFFD).
 */
function jsonText(value: unknown): string {
  let json = JSON.stringify(value);
  if (hasLoneSurrogateEscape(json)) json = json.replace(LONE_SURROGATE_ESCAPES, (_m, slashes: string, hex: string) => slashes + String.fromCharCode(parseInt(hex, 16)));
  // jsonb refuses `\u0000` as text refuses the NUL itself: U+FFFD, as in text columns.
  const stored = nulAsStored(json);
  if (stored !== json) replacedNul = true;
  return stored;
}

/** Column kinds as small integers for the encoder's switch (measured ~15% faster than a function per column). */
export const KIND_CODES: Record<ColumnKind, number> = { string: 0, string_list: 1, integer: 2, decimal: 3, boolean: 4, date: 5, timestamp: 6, id_list: 7 };

/**
 * Rows → COPY text for these columns: the columns' values tab-separated, then the row's `_row_hash` (hex, nothing to escape), one line
 * per row. `onNul` gets the id of each row whose text held a NUL (stored as U+FFFD).
 */
export function copyRows(columns: readonly TypedColumn[], onNul?: (id: string) => void): (rows: readonly TypedRow[], hashes: readonly string[]) => string {
  const kinds = columns.map((c) => KIND_CODES[c.kind]);
  const count = kinds.length;
  const idAt = columns.findIndex((c) => c.name === 'id');
  return (rows, hashes) => {
    let text = '';
    replacedNul = false;
    for (let r = 0; r < rows.length; r += 1) {
      const row = rows[r]!;
      for (let i = 0; i < count; i += 1) {
        const value = row[i];
        if (value === null || value === undefined) {
          text += '\\N\t';
          continue;
        }
        switch (kinds[i]) {
          case 0:
            text += escapeCopy(value as string) + '\t';
            break;
          case 1:
            text += arrayLiteral(value as string[]) + '\t';
            break;
          case 2:
            text += String(value) + '\t';
            break;
          case 3:
            text += formatDecimal(value as bigint) + '\t';
            break;
          case 4:
            text += value ? 't\t' : 'f\t';
            break;
          case 5:
            text += formatDate(value as number) + '\t';
            break;
          case 6:
            text += formatTimestamp(value as bigint) + '\t';
            break;
          default:
            text += escapeCopy(jsonText(value)) + '\t';
        }
      }
      if (replacedNul) {
        replacedNul = false;
        onNul?.(String(row[idAt]));
      }
      text += hashes[r] + '\n';
    }
    return text;
  };
}

/**
 * A lone UTF-16 surrogate (half of a character: Pylon's JSON can carry `\ud800`) as JSON.stringify writes it: an escape that
 * no odd run of backslashes makes literal text (JSON.stringify escapes only lone surrogates so). UTF-8 cannot hold the half,
 * so every output (the file, the table, the COPY text) has U+FFFD in its place.
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

/**
 * Each lone surrogate's escape in JSON text, global: the even run of backslashes before it (`$1`) and its hex (`$2`). The JSON lines
 * of the values digest put U+FFFD in its place (run-export.ts asStored); a jsonb id list, the half itself (copy-text.ts jsonText).
 */
export const LONE_SURROGATE_ESCAPES = /(?<!\\)((?:\\\\)*)\\u(d[89a-f][0-9a-f]{2})/g;

/**
 * Whether JSON text holds a lone surrogate's escape. `includes()` first: a fast scan, where the regular expression (a
 * lookbehind) would cost every row of a million-row load (0.35–0.8 µs a line against 0.04–0.13 µs, 8c08422).
 */
export function hasLoneSurrogateEscape(json: string): boolean {
  return json.includes('\\ud') && LONE_SURROGATE_ESCAPE.test(json);
}

/**
 * A NUL (U+0000) as JSON.stringify writes it, `\u0000`, not made literal text by an odd run of backslashes. PostgreSQL's text and
 * jsonb cannot hold it (the whole COPY failed), so a PostgreSQL load stores U+FFFD in its place (copy-text.ts) and the values digest
 * hashes it so (run-export.ts asStored). DuckDB's VARCHAR, CSV, NDJSON and Parquet hold it as it is.
 */
const NUL_ESCAPES = /(?<!\\)((?:\\\\)*)\\u0000/g;

/** JSON text with each NUL's escape as PostgreSQL stores it: U+FFFD; the text itself when it has none (`includes()` first). */
export function nulAsStored(json: string): string {
  return json.includes('\\u0000') ? json.replace(NUL_ESCAPES, '$1\ufffd') : json;
}

// Bundled in place of `string-width` inside dist/cli/yargs.js (scripts/bundle.mjs).
// string-width builds an Intl.Segmenter when it loads, which costs more than the rest of a
// `--help` run's text layout; help text is ASCII plus a few typographic marks, whose width is
// one column each. Anything else goes to string-width itself, loaded on first need.
// test/cli/string-width-fast.test.ts checks these widths against string-width's.

/** Characters outside ASCII that help text uses, one column wide in a terminal (string-width agrees). */
export const NARROW_MARKS = '→←…×–—‘’“”•·';
const simple = new RegExp(`^[\\u0000-\\u001A\\u001C-\\u007F${NARROW_MARKS}]*$`);
const visible = new RegExp(`[\\u0020-\\u007E${NARROW_MARKS}]`, 'g');

/** The width of a string of ASCII (no escape sequences) and NARROW_MARKS, or undefined for any other string. */
export function simpleWidth(input, options) {
  if (typeof input !== 'string' || !simple.test(input) || options?.ambiguousIsNarrow === false) return undefined;
  return input.match(visible)?.length ?? 0;
}

let full;

export default function stringWidth(input, options) {
  const width = simpleWidth(input, options);
  if (width !== undefined) return width;
  // A require that esbuild resolves at bundle time (yargs' own string-width) and runs lazily.
  full ??= require('string-width').default;
  return full(input, options);
}

import test from 'ava';
import { createHash } from 'node:crypto';
import { ValuesDigest } from '../../src/export/values-digest.js';

/** The documented definition, written the slow way: the sum mod 2^256 of sha256 over each line's UTF-8 bytes. */
function reference(lines: readonly string[]): string {
  let sum = 0n;
  for (const line of lines) sum = (sum + BigInt('0x' + createHash('sha256').update(line, 'utf8').digest('hex'))) & ((1n << 256n) - 1n);
  return sum.toString(16).padStart(64, '0');
}

/** Deterministic lines of every shape a typed JSON line takes: ASCII, accents, CJK, emoji (surrogate pairs), escapes, empty objects, long texts. */
function lines(count: number, seed = 7): string[] {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const pieces = ['a', 'é', '名', '😀', '\\n', '"', 'Zoë', ' ', '0'];
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    let text = '';
    const length = next() % 400;
    for (let j = 0; j < length; j += 1) text += pieces[next() % pieces.length];
    out.push(i % 97 === 0 ? '{}' : JSON.stringify({ id: `c${i}`, name: text, n: next() }));
  }
  return out;
}

function digestOf(input: readonly string[]): { hex: string; rows: number } {
  const digest = new ValuesDigest();
  for (const line of input) digest.add(line);
  return { hex: digest.hex, rows: digest.rows };
}

test('the sum equals the documented definition, over many rows and multi-byte text', (t) => {
  const input = lines(60_000);
  t.deepEqual(digestOf(input), { hex: reference(input), rows: 60_000 });
});

test('the sum carries past 2^20 rows (where each 32-bit word has overflowed many times)', (t) => {
  const input = Array.from({ length: (1 << 20) + 12_345 }, (_, i) => `{"id":"c${i}"}`);
  t.is(digestOf(input).hex, reference(input));
});

test('the sum is independent of row order', (t) => {
  const input = lines(5_000, 11);
  const reversed = [...input].reverse();
  t.is(digestOf(reversed).hex, digestOf(input).hex);
});

test('no rows give sixty-four zeros; one row gives its own sha256', (t) => {
  t.is(new ValuesDigest().hex, '0'.repeat(64));
  const one = new ValuesDigest();
  one.add('{"id":"x"}');
  t.is(one.hex, createHash('sha256').update('{"id":"x"}').digest('hex'));
  t.is(one.rows, 1);
});


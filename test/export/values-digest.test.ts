import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
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

async function digestOf(input: readonly string[], threaded: boolean): Promise<string> {
  const digest = new ValuesDigest({ threaded });
  for (let i = 0; i < input.length; i += 1) {
    digest.add(input[i]!);
    if (i % 999 === 998) await new Promise((resolve) => setImmediate(resolve)); // the walk yields between pages
  }
  return digest.digest();
}

test('the threaded and inline sums equal the documented definition, across many batches and multi-byte text', async (t) => {
  const input = lines(60_000);
  const expected = reference(input);
  t.is(await digestOf(input, true), expected);
  t.is(await digestOf(input, false), expected);
});

test('lines added without a pause (the worker behind, lines hashed on both threads) give the same sum', async (t) => {
  const input = lines(40_000, 3);
  const digest = new ValuesDigest();
  for (const line of input) digest.add(line);
  t.is(await digest.digest(), reference(input));
});

test('the sum is independent of row order', async (t) => {
  const input = lines(5_000, 11);
  const reversed = [...input].reverse();
  t.is(await digestOf(reversed, true), await digestOf(input, true));
});

test('no rows give sixty-four zeros; one row gives its own sha256', async (t) => {
  t.is(await new ValuesDigest().digest(), '0'.repeat(64));
  const one = new ValuesDigest();
  one.add('{"id":"x"}');
  t.is(await one.digest(), createHash('sha256').update('{"id":"x"}').digest('hex'));
  t.is(one.rows, 1);
});

test('a line larger than a batch (and lines around it) is hashed whole', async (t) => {
  const big = JSON.stringify({ note: 'é'.repeat(1_500_000) }); // 3 MB of UTF-8
  const input = ['{"a":1}', big, '{"b":2}', big + ' ', '{"c":3}'];
  t.is(await digestOf(input, true), reference(input));
});

test('a digest closed without a result does not keep the process alive', async (t) => {
  // A child adds rows and never asks for the digest: it must exit by itself.
  const module = fileURLToPath(new URL('../../src/export/values-digest.ts', import.meta.url));
  const script = `import { ValuesDigest } from ${JSON.stringify(module)}; const d = new ValuesDigest(); for (let i = 0; i < 50000; i += 1) d.add('{"i":' + i + '}'); console.log('added', d.rows);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.is(code, 0);
  t.is(out.trim(), 'added 50000');
});

import test from 'ava';
import { IdIndex, IdSet, key64, key64WithHex, parseKey64Hex } from '../../src/export/id-index.js';

test('key64 is the first 64 bits of sha256, and its hex form round-trips', (t) => {
  // sha256("abc") = ba7816bf 8f01cfea ...
  const key = key64('abc');
  t.deepEqual(key64WithHex('abc'), { ...key, hex: 'ba7816bf8f01cfea' });
  t.deepEqual(parseKey64Hex('ba7816bf8f01cfea'), key);
  t.is(parseKey64Hex('BA7816BF8F01CFEA'), undefined);
  t.is(parseKey64Hex('ba7816bf8f01cfe'), undefined);
});

test('stores, finds and marks 200,000 keys through several resizes, with no false hits', (t) => {
  const index = new IdIndex();
  const n = 200_000;
  let added = 0;
  for (let i = 0; i < n; i += 1) if (index.add(key64(`id-${i}`), key64(`value-${i}`))) added += 1;
  t.is(added, n);
  t.is(index.size, n);
  t.false(index.add(key64('id-7'), key64('other')), 'a present key is not added twice');
  t.deepEqual(index.get(key64('id-7')), key64('value-7'), 'and keeps its first value');
  for (let i = 0; i < n; i += 997) t.deepEqual(index.get(key64(`id-${i}`)), key64(`value-${i}`));
  for (let i = 0; i < 1000; i += 1) t.is(index.get(key64(`absent-${i}`)), undefined);
  t.true(index.mark(key64('id-42')));
  t.false(index.mark(key64('absent')));
  t.true(index.isMarked(key64('id-42')));
  t.false(index.isMarked(key64('id-43')));
  index.add(key64('late'));
  t.true(index.isMarked(key64('id-42')), 'marks survive later inserts');
});

test('without values it still answers membership and marks', (t) => {
  const index = new IdIndex({ withValues: false, expected: 10 });
  t.true(index.add(key64('a')));
  t.false(index.add(key64('a')));
  t.is(index.get(key64('a')), undefined);
  for (let i = 0; i < 5000; i += 1) index.add(key64(String(i)));
  t.is(index.size, 5001);
  t.false(index.add(key64('4999')));
});

test('IdSet: adds each key once across its 16 parts, whatever the top bits', (t) => {
  const set = new IdSet();
  const keys = Array.from({ length: 50_000 }, (_, i) => key64(`contact-${i}`));
  t.true(keys.every((key) => set.add(key)));
  t.is(set.size, 50_000);
  t.true(keys.every((key) => !set.add(key)), 'every key is found again');
  t.true(set.add({ hi: 0xffffffff, lo: 1 }) && set.add({ hi: 0, lo: 1 }) && !set.add({ hi: 0xffffffff, lo: 1 }));
  t.is(set.size, 50_002);
});

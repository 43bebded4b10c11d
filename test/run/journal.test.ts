import test from 'ava';
import { mkdtempSync, readFileSync, appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from '../../src/run/journal.js';
import { lockJournal } from '../../src/run/journal-lock.js';
import { ConfigError } from '../../src/errors.js';

const input = { path: '/data/contacts.csv', size: 100, sha256: 'abc' };
const dir = () => mkdtempSync(join(tmpdir(), 'journal-test-'));

test('a resumed journal replays outcomes and remembers unconfirmed creates', (t) => {
  const path = join(dir(), 'j.jsonl');
  const first = openJournal(path, { input, mode: 'upsert' }, false);
  first.sent(2);
  first.done({ t: 'done', l: 2, o: 'created', id: 'c2', rid: 'r2' });
  first.sent(3);
  first.sent(6, { id: 'c6', changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] });
  first.done({ t: 'done', l: 4, o: 'failed', code: 'ROW_INVALID_EMAIL', field: 'email', message: 'bad' });
  first.close();
  // a kill -9 in the middle of a write leaves half a line
  appendFileSync(path, '{"t":"done","l":5,"o":"crea');

  const second = openJournal(path, { input, mode: 'upsert' }, true);
  t.deepEqual([...second.previous.keys()].sort(), [2, 4]);
  t.is(second.previous.get(2)?.id, 'c2');
  t.is(second.previous.get(4)?.code, 'ROW_INVALID_EMAIL');
  t.deepEqual([...second.sentBefore.keys()], [3, 6]);
  // Each sent entry records when it left the pacer (issue 21): a resume waits only as long as that requires.
  const { at, ...sent6 } = second.sentBefore.get(6)!;
  t.deepEqual(sent6, { t: 'sent', l: 6, id: 'c6', changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] });
  t.is(typeof at, 'number');
  second.close();
  t.true(readFileSync(path, 'utf8').trim().split('\n').filter((l) => l.includes('"start"')).length === 2);
});

test('resume refuses a changed input, another mode, or no journal', (t) => {
  const path = join(dir(), 'j.jsonl');
  openJournal(path, { input, mode: 'upsert' }, false).close();
  const changed = t.throws(() => openJournal(path, { input: { ...input, sha256: 'other' }, mode: 'upsert' }, true));
  t.true(changed instanceof ConfigError);
  t.is((changed as ConfigError).code, 'CONFIG_RESUME_MISMATCH');
  t.regex(changed!.message, /input file changed/);
  t.throws(() => openJournal(path, { input, mode: 'create' }, true), { message: /--mode upsert/ });
  t.throws(() => openJournal(join(dir(), 'none.jsonl'), { input, mode: 'upsert' }, true), { message: /no journal/ });
});

test('a fresh run will not overwrite the journal of an unfinished one', (t) => {
  const path = join(dir(), 'j.jsonl');
  openJournal(path, { input, mode: 'upsert' }, false).close();
  t.throws(() => openJournal(path, { input, mode: 'upsert' }, false), { message: /Use --resume/ });
});

test('a large journal is read streaming: every outcome across 1 MB chunk boundaries, out of line order, and the unconfirmed sends', (t) => {
  const path = join(dir(), 'big.jsonl');
  const first = openJournal(path, { input, mode: 'upsert' }, false);
  const n = 60_000;
  // Completion order is not line order: lines finish in a shuffled order, as with concurrent requests.
  const lines = Array.from({ length: n }, (_, i) => i + 2).sort((a, b) => ((a * 7919) % 104729) - ((b * 7919) % 104729));
  for (const l of lines) {
    first.sent(l);
    if (l % 7 !== 0) first.done({ t: 'done', l, o: 'created', id: `c${l}`, email: `person-${l}@example.com`, rid: `r${l}`.padEnd(40, 'x') });
  }
  first.close();
  t.true(readFileSync(path).length > 3 * 1024 * 1024, 'the journal spans several read chunks');

  const second = openJournal(path, { input, mode: 'upsert' }, true);
  const expectedDone = lines.filter((l) => l % 7 !== 0).sort((a, b) => a - b);
  t.is(second.previous.size, expectedDone.length);
  t.deepEqual([...second.previous.keys()], expectedDone);
  let wrong = 0;
  for (const l of expectedDone) if (second.previous.get(l)?.id !== `c${l}`) wrong++;
  t.is(wrong, 0);
  t.is(second.previous.get(7), undefined);
  t.deepEqual([...second.sentBefore.keys()].sort((a, b) => a - b), lines.filter((l) => l % 7 === 0).sort((a, b) => a - b));
  second.close();
});

test('a resumed journal reads back an entry longer than its read buffer, and lines far beyond the dense index', (t) => {
  const path = join(dir(), 'long.jsonl');
  const first = openJournal(path, { input, mode: 'upsert' }, false);
  const message = 'x'.repeat(3 * 1024 * 1024);
  first.sent(2);
  first.done({ t: 'done', l: 2, o: 'failed', code: 'ROW_API_FAILED', message });
  first.sent(3);
  first.done({ t: 'done', l: 3, o: 'created', id: 'c3' });
  // A line number above the dense index (2^26) goes to the sparse map, and still answers.
  first.sent(2 ** 27);
  first.done({ t: 'done', l: 2 ** 27 + 1, o: 'created', id: 'far' });
  first.close();
  appendFileSync(path, '{"t":"done","l":-1,"o":"created"}\n{"t":"done","l":1.5,"o":"created"}\n');

  const second = openJournal(path, { input, mode: 'upsert' }, true);
  t.is(second.previous.size, 3);
  t.deepEqual([...second.previous.keys()], [2, 3, 2 ** 27 + 1]);
  t.is(second.previous.get(2)?.message, message);
  t.is(second.previous.get(3)?.id, 'c3');
  t.is(second.previous.get(2 ** 27 + 1)?.id, 'far');
  t.deepEqual([...second.sentBefore.keys()], [2 ** 27]);
  t.is(second.sentBefore.size, 1);
  t.is(second.sentBefore.get(3), undefined, 'a send with an outcome is not unanswered');
  t.is(second.sentAt(3)?.l, 3, 'but its send is still there for an undo row');
  second.close();
});

test('a journal lock refuses a second holder while its process runs, and a stale one (dead pid) is taken over', (t) => {
  const path = join(dir(), 'j.jsonl');
  const release = lockJournal(path);
  const refused = t.throws(() => lockJournal(path));
  t.is((refused as ConfigError).code, 'CONFIG_RUN_LOCKED');
  t.regex(refused!.message, new RegExp(`Another run \\(pid ${process.pid}\\) is working on this input now`));
  release();
  t.false(existsSync(`${path}.lock`));
  // A pid that ran and ended: its lock is stale.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname() }));
  const again = lockJournal(path);
  t.is(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).pid, process.pid);
  again();
});

test('resume refuses other settings than the journal records, naming each', (t) => {
  const path = join(dir(), 'j.jsonl');
  openJournal(path, { input, mode: 'update', settings: { '--set portal_role': 'admin' } }, false).close();
  t.throws(() => openJournal(path, { input, mode: 'update', settings: { '--set portal_role': 'no_access', '--create-accounts': 'true' } }, true), {
    message: /--create-accounts: not given in the interrupted run, "true" now; --set portal_role: "admin" in the interrupted run, "no_access" now/,
  });
  openJournal(path, { input, mode: 'update', settings: { '--set portal_role': 'admin' } }, true).close();
});

/**
 * A contact a row created is that row's, as a contact it matched is: a later row naming it by its Pylon id fails
 * ROW_DUPLICATE_IN_FILE instead of writing it again, in an uninterrupted run and after any number of --resume runs. The
 * case that slipped: a create whose answer was lost is recovered on a first --resume (found by email, counted created),
 * and that resume is killed too; the second --resume replays the row from the journal, and the replay did not claim the
 * contact, so the later row wrote over it. Runs are held at known points by a stall proxy (one row per chunk, one request
 * at a time), killed there, and resumed through the same proxy.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Emulator } from '../../src/emulator/index.js';
import { FAST_RATE, envFor, runCli, spawnCli, startEmulator, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
/** One row per chunk, one request at a time: a run held at a write has not read the rows after it. */
const HELD = ['--rate', FAST_RATE, '--concurrency', '1', '--lookup-batch', '1', '--lookup', 'search', '--json', '--timeout', '3000'];

const seed = (emulator: Emulator) => emulator.store.insert({ name: 'Gus', email: 'gus@x.example', portal_role: 'member' });
const stored = (emulator: Emulator) =>
  [...emulator.store.all()].map((c) => ({ id: c.id, email: c.email, name: c.name })).sort((a, b) => String(a.email).localeCompare(String(b.email)));

test('a create recovered on one --resume and replayed on a second keeps its contact: a later row naming it by id fails ROW_DUPLICATE_IN_FILE, as in an uninterrupted run', async (t) => {
  // The id the file's first create gets (the emulator's ids follow its seed): the third row names that contact by it.
  const probe = await startEmulator(t);
  seed(probe);
  const createdId = probe.store.nextId();
  const csv = `id,email,name\n,new@x.example,New A\n,gus@x.example,Gus B\n${createdId},,New C\n`;

  // The uninterrupted run.
  const plain = await startEmulator(t);
  seed(plain);
  const plainDir = tempDir(t, 'pylon-resume-created-');
  writeFileSync(join(plainDir, 'rows.csv'), csv);
  const whole = await runCli(['import', join(plainDir, 'rows.csv'), ...HELD], { env: envFor(plain) });
  t.is(whole.code, 3, whole.stderr);
  const wholeErrors = readCsv(join(plainDir, 'rows.errors.csv')).map((e) => [e._line, e._error_code]);
  t.deepEqual(wholeErrors, [['4', 'ROW_DUPLICATE_IN_FILE']], 'the row naming the created contact by id is a duplicate');

  const emulator = await startEmulator(t);
  const gus = seed(emulator);
  const dir = tempDir(t, 'pylon-resume-created-');
  const input = join(dir, 'rows.csv');
  writeFileSync(input, csv);

  // 1. Held at the create, killed: the create lands but its answer is lost (the contact is put in the store as it would be).
  // One proxy for the three runs (a journal is resumed against the host it was written for), held at another point each time.
  const stall = await stallProxy(t, emulator, (method, path) => method === 'POST' && path.split('?')[0] === '/contacts');
  const env = envFor(stall);
  const first = spawnCli(['import', input, ...HELD], { env });
  await stall.reached;
  first.child.kill('SIGKILL');
  await first.result;
  stall.release({ drop: true });
  t.is(emulator.store.insert({ name: 'New A', email: 'new@x.example' }).id, createdId);

  // 2. The first --resume recovers the create (found by email) and is killed at Gus's PATCH.
  stall.rearm((method, path) => method === 'PATCH' && path.startsWith(`/contacts/${gus.id}`));
  const second = spawnCli(['import', input, ...HELD, '--resume'], { env });
  await stall.reached;
  second.child.kill('SIGKILL');
  await second.result;
  stall.release({ drop: true });

  // 3. The second --resume replays the recovered create and finishes the file.
  const resumed = await runCli(['import', input, ...HELD, '--resume'], { env });
  t.is(resumed.code, 3, resumed.stderr);
  t.deepEqual(readCsv(join(dir, 'rows.errors.csv')).map((e) => [e._line, e._error_code]), wholeErrors, 'the same rows fail, with the same codes');
  t.deepEqual(stored(emulator), stored(plain), 'the store is what the uninterrupted run left');
});

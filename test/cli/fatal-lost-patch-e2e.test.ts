/**
 * A run killed (kill -9) while a PATCH was out, which the server applied: the journal's `sent` entry is the only
 * record of the contact's old values (the run died before it could write the undo row). A plain re-run of the
 * same command is refused, naming the PATCH's line and saying that a new run would count the contact unchanged and
 * leave it out of its undo file; it no longer offers to delete the journal (which loses those old values). Before,
 * the refusal said nothing of it and offered the delete: the re-run after it left the change in no undo file.
 * --resume counts the row updated and writes its undo row. The built CLI in a child process, through a proxy that
 * holds the PATCH, against the emulator on a real socket.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, TOKEN, envFor, runCli, spawnCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { stallProxy } from '../helpers/stall-proxy.js';

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

test('kill -9 while a PATCH is out: a plain re-run is refused naming the PATCH and without offering the delete; --resume writes its undo row', async (t) => {
  const emulator = await startEmulator(t);
  const ann = emulator.store.insert({ name: 'Ann Old', email: 'ann@lost-patch.test' });
  const stall = await stallProxy(t, emulator, (method) => method === 'PATCH');
  const dir = tempDir(t);
  const file = join(dir, 'in.csv');
  writeFileSync(file, 'name,email\nAnn New,ann@lost-patch.test\nBea,bea@lost-patch.test\n');
  const args = ['import', file, '--rate', FAST_RATE, '--concurrency', '1', '--json'];
  const env = envFor(stall);

  const killed = spawnCli(args, { env, cwd: dir });
  await stall.reached;
  killed.child.kill('SIGKILL');
  const stopped = await killed.result;
  t.is(stopped.signal, 'SIGKILL');
  // The PATCH the run sent was applied: the server got it, the run never heard.
  const patched = await fetch(`${emulator.url}/contacts/${ann.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ann New' }) });
  t.is(patched.status, 200);
  stall.release({ drop: true });

  const plain = await runCli(args, { env, cwd: dir });
  t.is(plain.code, 2, plain.stderr);
  t.regex(plain.stderr, /It stopped with a change \(PATCH\) sent and never answered \(line 2\), which may have been made: only --resume checks its contact .* a new run finds such a contact already changed, counts it unchanged and leaves it out of its undo file\. Use --resume \(the same command\) to finish it\./);
  t.notRegex(plain.stderr, /delete .* to start a new run/);
  t.notRegex(plain.stderr, /create sent/, 'no create was lost');

  const resumed = await runCli([...args, '--resume'], { env, cwd: dir });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { updated: 1, created: 1, failed: 0 });
  const undo = readCsv(join(dir, 'in.undo.csv'));
  t.deepEqual(undo.map((r) => [r.id, r.name]), [[ann.id, 'Ann Old']], 'the change made by the killed run has its undo row');
});

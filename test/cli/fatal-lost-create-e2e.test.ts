/**
 * A run stopped by a 401 while a create whose answer was lost is unresolved: the summary sends the user to
 * --resume, and a run of the same command without it is refused with a message saying that only --resume
 * checks that create (a new run would create again what it cannot find), never offering to delete the
 * journal as the way on. The resumed run finds the create made and creates every contact once.
 * The built CLI in a child process, through a real proxy, against the emulator on a real socket.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, notExactlyOnce, runCli, startEmulator, startFaultProxy, tempDir } from '../helpers/cli.js';

test('401 after a create whose answer was lost: the stop says --resume, a plain re-run is refused naming the lost create, --resume creates each contact once', async (t) => {
  const emulator = await startEmulator(t);
  let creates = 0;
  let revoked = true;
  // The first create is applied and its connection dropped; every request after it is refused 401 (the token revoked).
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => {
    if (!revoked) return undefined;
    if (method === 'POST' && path === '/contacts') return ++creates === 1 ? 'drop=after' : 'status=401';
    return creates > 0 ? 'status=401' : undefined;
  });
  const dir = tempDir(t);
  const file = join(dir, 'in.csv');
  writeFileSync(file, 'name,email\nA,a@lost.test\nB,b@lost.test\nC,c@lost.test\n');
  const args = ['import', file, '--rate', FAST_RATE, '--concurrency', '1'];
  const env = envFor(proxy);

  const stopped = await runCli(args, { env });
  t.is(stopped.code, 1, stopped.stderr);
  t.regex(stopped.stderr, /not processed: 3 rows — run the same command with --resume to finish/);
  t.regex(stopped.stderr, /fatal \(PYLON_AUTH\): .* — fix it and run again with --resume/);
  t.deepEqual([...emulator.store.all()].map((c) => c.email), ['a@lost.test'], 'the lost create was made');

  revoked = false;
  const plain = await runCli(args, { env });
  t.is(plain.code, 2, plain.stderr);
  t.regex(plain.stderr, /It stopped with a create sent and never answered \(line 2\): only --resume finds out whether it was made before sending it again; a new run creates again any contact it does not find .* Use --resume \(the same command\) to finish it\./);
  t.notRegex(plain.stderr, /delete .* to start a new run/);
  t.is(emulator.store.size, 1, 'the refused run sent nothing');

  const resumed = await runCli([...args, '--resume'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(notExactlyOnce(emulator, ['a@lost.test', 'b@lost.test', 'c@lost.test']), []);
});

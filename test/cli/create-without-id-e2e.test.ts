/**
 * A create answered 2xx without the created contact's id (204, `{}`, `{"data": {}}`, the contact less its
 * `id`: `--create-answer`), for rows without an email, which nothing can look up to find the contact. Each
 * row ends once: created, its id unknown, said in its results row and the summary; never a failure whose
 * error report, imported again, would create the contact a second time. A row with an email is found by it.
 * The built CLI in a child process against the emulator on a real socket.
 */
import test from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

for (const answer of ['empty', 'no-content', 'empty-data', 'no-id'] as const) {
  test(`--create-answer ${answer}: a row without an email is created once and reported created with no id, saying so; one with an email is found by it`, async (t) => {
    const emulator = await startEmulator(t, { createAnswer: answer });
    const dir = tempDir(t);
    const env = envFor(emulator);
    const importFile = async (name: string, lines: string[], ...args: string[]) => {
      const file = join(dir, `${name}.csv`);
      writeFileSync(file, lines.join('\n') + '\n');
      const results = join(dir, `${name}.results.csv`);
      const run = await runCli(['import', file, '--mode', 'create', '--json', '-q', '--rate', FAST_RATE, '--concurrency', '1', '--results', results, ...args], { env });
      t.is(run.code, 0, run.stderr);
      t.false(existsSync(join(dir, `${name}.errors.csv`)), 'no row in the error report: importing it would create the contact again');
      return { stats: statsOf(run), rows: readCsv(results) };
    };
    const stored = (name: string) => [...emulator.store.all()].filter((c) => c.name === name);

    const plain = await importFile('plain', ['name,email,phone_numbers', 'No Mail,,5551234', 'With Mail,mail@noid.test,']);
    t.like(plain.stats, { total: 2, created: 2, failed: 0 });
    t.true(plain.stats.warnings.some((w) => /^1 create was answered with success but without the contact's id, for a row without an email \(line 2\).*must not be imported again/.test(w)), plain.stats.warnings.join('\n'));
    t.is(stored('No Mail').length, 1, 'created once');
    t.deepEqual(plain.rows.map((r) => [r._line, r._action, r._contact_id]), [['2', 'created', ''], ['3', 'created', stored('With Mail')[0]!.id]]);
    t.regex(plain.rows[0]!._message!, /created \(a 2xx\), but its id is unknown; importing the row again would create a second one: do not/);

    const keyed = await importFile('keyed', ['name,external_id', 'Ext Only,crm-1'], '--external-id-label', 'crm');
    t.like(keyed.stats, { total: 1, created: 1, failed: 0 });
    t.deepEqual(keyed.rows.map((r) => [r._line, r._action, r._contact_id]), [['2', 'created', '']]);
    t.regex(keyed.rows[0]!._message!, /its id is unknown; importing the row again finds it by its external id/);
    t.deepEqual(stored('Ext Only').map((c) => c.external_ids), [[{ external_id: 'crm-1', label: 'crm' }]]);
    // Imported again, the keyed row finds its contact by its external id: nothing created twice.
    const again = await importFile('keyed', ['name,external_id', 'Ext Only,crm-1'], '--external-id-label', 'crm');
    t.like(again.stats, { total: 1, created: 0, failed: 0 });
    t.is(emulator.store.size, 3, 'nothing else created');
  });
}

test('a run stopped (401) after such a create: --resume replays the row as created with its message and sends no second create', async (t) => {
  const emulator = await startEmulator(t, { createAnswer: 'empty' });
  let creates = 0;
  let revoked = true;
  const proxy = await startFaultProxy(t, emulator, ({ method, path }) => (revoked && method === 'POST' && path === '/contacts' && ++creates > 1 ? 'status=401' : undefined));
  const dir = tempDir(t);
  const file = join(dir, 'stop.csv');
  writeFileSync(file, 'name,phone_numbers\nNo Mail,5551234\nLater,5559876\n');
  const results = join(dir, 'stop.results.csv');
  const args = ['import', file, '--mode', 'create', '--json', '-q', '--rate', FAST_RATE, '--concurrency', '1', '--results', results];
  const stopped = await runCli(args, { env: envFor(proxy) });
  t.is(stopped.code, 1, stopped.stderr);
  t.is(emulator.store.size, 1);
  revoked = false;
  const resumed = await runCli([...args, '--resume'], { env: envFor(proxy) });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { total: 2, created: 2, failed: 0 });
  t.deepEqual([...emulator.store.all()].map((c) => c.name), ['No Mail', 'Later'], 'each created once');
  const rows = readCsv(results);
  t.deepEqual(rows.map((r) => [r._line, r._action, r._contact_id]), [['2', 'created', ''], ['3', 'created', '']]);
  t.regex(rows[0]!._message!, /its id is unknown; importing the row again would create a second one/);
});

/**
 * Two rows of one file carrying one external id under two labels: Pylon keeps an external id once per contact, so the
 * first row's contact takes it and the later row fails ROW_EXTERNAL_ID_TAKEN before anything is sent. The dry run
 * counts what the real run does, whatever the order the writes would land in, and a failed row's _contact_id is
 * never another row's contact.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir, startRevokingProxy } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

const CASES = [
  { title: 'two labels', labels: ['crm', 'hubspot'], extra: [] as string[], failedLine: '3' },
  { title: 'labels differing only in case', labels: ['crm', 'CRM'], extra: [], failedLine: '3' },
  { title: 'two labels, --on-duplicate last', labels: ['crm', 'hubspot'], extra: ['--on-duplicate', 'last'], failedLine: '3' },
];

for (const c of CASES) {
  test(`one external id under ${c.title} in one file: the dry run counts the real run's failure, and the real run sends nothing for it`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
    const input = join(dir, 'in.csv');
    writeFileSync(input, `name,email,external_id,external_id_label\nLb One,lb1@x8.example,888,${c.labels[0]}\nLb Two,lb2@x8.example,888,${c.labels[1]}\n`);
    const run = async (name: string, extra: string[]) => {
      const errors = join(dir, `${name}.errors.csv`);
      const results = join(dir, `${name}.results.csv`);
      const res = await runCli(['import', input, '--rate', FAST_RATE, '--errors', errors, '--results', results, '--json', ...c.extra, ...extra], { env, cwd: dir });
      t.is(res.code, 3, res.stderr);
      return { stats: statsOf(res), errors: readCsv(errors), results: readCsv(results) };
    };
    const dry = await run('dry', ['--dry-run']);
    const real = await run('real', []);
    t.like(dry.stats, { created: 1, failed: 1 });
    t.like(real.stats, { created: 1, failed: 1 });
    for (const { errors } of [dry, real]) {
      t.is(errors.length, 1);
      t.is(errors[0]?._line, c.failedLine);
      t.is(errors[0]?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
      t.regex(errors[0]?._error_message ?? '', /also line 2's, under another label.*nothing was sent/);
    }
    const failed = real.results.find((r) => r._action === 'failed');
    t.is(failed?._contact_id, '', 'the failed row names no contact: the one holding the id is line 2\'s');
    const holders = [...emulator.store.all()].filter((x) => x.external_ids?.some((e) => e.external_id === '888'));
    t.is(holders.length, 1);
    t.is(holders[0]?.email, 'lb1@x8.example');
  });
}

test('a row refused because a contact in Pylon holds its external id under another label leaves _contact_id empty (the message names the holder)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const zed = emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });
  const input = join(dir, 'in.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nAnn,ann@x.example,101,hubspot\n');
  const results = join(dir, 'results.csv');
  const res = await runCli(['import', input, '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv'), '--results', results, '--json'], { env, cwd: dir });
  t.is(res.code, 3, res.stderr);
  const [row] = readCsv(results);
  t.is(row?._action, 'failed');
  t.is(row?._contact_id, '');
  t.regex(row?._message ?? '', new RegExp(`ROW_EXTERNAL_ID_TAKEN: .*held by contact ${zed.id}`));
});

test('rows naming their contact by Pylon id, each with its own external id, are written as before (no (label, id) pair is keyed for them)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const ann = emulator.store.insert({ name: 'Ann', email: 'ann@x.example' });
  const bob = emulator.store.insert({ name: 'Bob', email: 'bob@x.example' });
  const input = join(dir, 'in.csv');
  writeFileSync(input, `id,external_id,external_id_label\n${ann.id},900,crm\n${bob.id},901,crm\n`);
  for (const extra of [['--dry-run'], []]) {
    const res = await runCli(['import', input, '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv'), '--json', ...extra], { env, cwd: dir });
    t.is(res.code, 0, res.stderr);
    t.like(statsOf(res), { updated: 2, failed: 0 });
  }
  t.deepEqual(emulator.store.get(ann.id)?.external_ids, [{ external_id: '900', label: 'crm' }]);
});

test('resumed after a stop, a later row with an external id an earlier (replayed) row of the file carries under another label still fails before it is sent, naming that line', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  // A token revoked mid-run: the run stops with line 2 done (journaled).
  const proxy = await startRevokingProxy(t, emulator);
  const input = join(dir, 'in.csv');
  // 300 rows between the two: the stop comes long before the run has read the last one.
  const middle = Array.from({ length: 300 }, (_, i) => `Mid ${i},mid${i}@x9.example,7${i},crm\n`).join('');
  writeFileSync(input, `name,email,external_id,external_id_label\nLb One,lb1@x9.example,888,crm\n${middle}Lb Two,lb2@x9.example,888,hubspot\n`);
  const args = ['import', input, '--rate', FAST_RATE, '--concurrency', '1', '--lookup-batch', '10', '--timeout', '3000', '--errors', join(dir, 'errors.csv'), '--json'];
  const env = { ...envFor(proxy), XDG_STATE_HOME: join(dir, 'state') };
  const first = await runCli(args, { env, cwd: dir });
  t.is(first.code, 1, first.stderr);
  t.like(statsOf(first), { created: 1, failed: 0 });
  proxy.restore();
  const resumed = await runCli([...args, '--resume'], { env, cwd: dir });
  t.is(resumed.code, 3, resumed.stderr);
  t.like(statsOf(resumed), { created: 301, failed: 1 });
  const errors = readCsv(join(dir, 'errors.csv'));
  t.is(errors.length, 1);
  t.is(errors[0]?._line, '303');
  t.regex(errors[0]?._error_message ?? '', /also line 2's, under another label.*nothing was sent/);
});

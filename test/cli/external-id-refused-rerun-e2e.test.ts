/**
 * A host remembered to refuse a contact external id another contact holds under another label
 * (servers.json: `external_id_under_other_label`, refused) is not sent that write again: the real
 * run fails the row before sending, as its dry run predicts, and says why and how to have it sent
 * again. A second identical run sends no write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir, writes } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

test('a refused cross-system external id is not POSTed again on a re-run', async (t) => {
  const emulator = await startEmulator(t, { externalIdTaken: 'reject' });
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const zed = emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });
  const input = join(dir, 'ann.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nAnn,ann@x.example,101,hubspot\n');
  const run = async (name: string, extra: string[] = []) => {
    const errors = join(dir, `${name}.errors.csv`);
    const res = await runCli(['import', input, '--lookup', 'list', '--rate', FAST_RATE, '--errors', errors, '--json', ...extra], { env, cwd: dir });
    t.is(res.code, 3, res.stderr);
    return { stats: statsOf(res), errors: readCsv(errors) };
  };

  const first = await run('first');
  t.like(first.stats, { created: 0, failed: 1 });
  t.is(first.stats.calls.create, 1, 'the first run sends the write: the server decides');
  t.is(first.errors[0]?._error_code, 'ROW_EXTERNAL_ID_TAKEN');

  const dry = await run('dry', ['--dry-run']);
  t.like(dry.stats, { created: 0, failed: 1 });

  const before = writes(emulator);
  const second = await run('second');
  t.like(second.stats, { created: 0, failed: 1 });
  t.is(writes(emulator) - before, 0, 'a second identical run sends no write');
  t.is(second.stats.calls.create, 0);
  t.is(second.errors[0]?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
  t.regex(second.errors[0]?._error_message ?? '', new RegExp(`held by contact ${zed.id} under label "zendesk".*Not sent: .* refused such a write when it was last sent \\(\\d{4}-\\d\\d-\\d\\d, recorded in .*servers\\.json\\), so nothing was written; if this host now keeps ids per label, delete that file and import the row again$`));
});

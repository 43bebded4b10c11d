/**
 * What a run learns about a server (servers.json: whether it takes an external id another contact
 * holds under another label, …) belongs to the organisation on that host (GET /me), not to the host:
 * two organisations on one host, like two emulators started in turn on one port, may answer
 * differently. An answer that contradicts what is remembered replaces it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DEFAULT_ME } from '../../src/emulator/index.js';
import type { ImportStats } from '../../src/import/run-import.js';
import { envFor, FAST_RATE, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

const OTHER_ORG = { id: 'org-other', name: 'Other Org', user: { id: 'u-2' } };

test('two organisations on one host, in turn on one port: a refusal learnt from one is not applied to the other; a contradicting answer is learnt again', async (t) => {
  const dir = tempDir(t);
  const env = (url: string) => ({ ...envFor({ url }), XDG_STATE_HOME: join(dir, 'state') });
  const input = join(dir, 'ann.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nAnn,ann@x.example,101,hubspot\n');
  const run = async (url: string, extra: string[], code: number) => {
    const res = await runCli(['import', input, '--lookup', 'list', '--rate', FAST_RATE, '--json', '--no-undo', ...extra], { env: env(url), cwd: dir });
    t.is(res.code, code, res.stderr);
    return { stats: JSON.parse(res.stdout) as ImportStats, stderr: res.stderr };
  };
  const seed = (emulator: { store: { insert(c: object): unknown } }) =>
    emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });

  // The default organisation refuses an id another contact holds under another label: learnt.
  const first = await startEmulator(t, { externalIdTaken: 'reject' });
  seed(first);
  const port = Number(new URL(first.url).port);
  const refused = await run(first.url, [], 3);
  t.like(refused.stats, { created: 0, failed: 1 });
  const memory = JSON.parse(readFileSync(join(dir, 'state', 'pylon-contacts', 'servers.json'), 'utf8')) as Record<string, Record<string, { reason: string }>>;
  t.regex(memory[`127.0.0.1:${port}/${DEFAULT_ME.id}`]?.external_id_under_other_label?.reason ?? '', /^refused/, 'kept under the host and the organisation');
  await first.close();

  // Another organisation on the same host and port keeps ids per label: nothing learnt about it yet, so the write is sent and taken.
  const other = await startEmulator(t, { port, externalIdTaken: 'per-label', me: OTHER_ORG });
  seed(other);
  const dry = await run(other.url, ['--dry-run'], 3);
  t.regex(dry.stderr, /has not been seen yet, so that is unverified/, 'the dry run does not take the other organisation\'s answer for this one');
  const taken = await run(other.url, [], 0);
  t.like(taken.stats, { created: 1, failed: 0 });
  t.is(writes(other), 1);
  await other.close();

  // The default organisation again, now keeping ids per label (a server restarted with other switches): still remembered as refusing,
  // so its dry run predicts the refusal; a write that contradicts it (taken, on an organisation remembered to take such writes) is
  // learnt again, each organisation apart.
  const again = await startEmulator(t, { port, externalIdTaken: 'reject', me: OTHER_ORG });
  seed(again);
  const dryAgain = await run(again.url, ['--dry-run'], 0);
  t.like(dryAgain.stats, { created: 1, failed: 0 }, 'the other organisation was seen to take it: predicted taken');
  const contradicted = await run(again.url, [], 3);
  t.like(contradicted.stats, { created: 0, failed: 1 }, 'refused this time');
  const relearnt = await run(again.url, ['--dry-run'], 3);
  t.like(relearnt.stats, { created: 0, failed: 1 });
  t.regex(readFileSync(join(dir, 'ann.errors.csv'), 'utf8'), /refused such a write when it was last sent/, 'the contradicting answer replaced the remembered one');
});

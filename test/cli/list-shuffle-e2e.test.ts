/**
 * A contact list whose order changes between pages (--list-shuffle, 7 a page): the list walk misses
 * some contacts. A row whose id the walk did not show is read with GET /contacts/{id} before it is
 * failed, so an update of 150 contacts by id changes all 150 (it failed the missed ones ROW_NOT_FOUND,
 * blaming "--mode update").
 */
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

test('update --where against a list whose order moves between pages: every contact selected is updated, none failed ROW_NOT_FOUND', async (t) => {
  // Case-sensitive search: the lookup reads the whole list (7 a page) rather than search, as with the independent server.
  const emulator = await startEmulator(t, { seedRandom: 150, listShuffle: true, maxPageSize: 7, emailMatch: 'sensitive' });
  const dir = tempDir(t);
  const all = [...emulator.store.all()];
  const run = await runCli(['update', '--where', 'email~@', '--set', 'portal_role=admin', '--json', '--no-undo', '--rate', FAST_RATE], { env: envFor(emulator), cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.like(statsOf(run), { failed: 0 });
  t.true([...emulator.store.all()].every((c) => c.portal_role === 'admin'), `${all.length} contacts`);
});

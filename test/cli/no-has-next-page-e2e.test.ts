/**
 * A server whose pages leave out `pagination.has_next_page` (`--has-next-page
 * absent`; Pylon's schema requires it): a non-empty cursor is read as a next
 * page and none (absent, null or "") as the last; each command says once that
 * the server omitted the flag, and reads every contact.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const NOTE = /The server answered a page without pagination\.has_next_page \((GET|POST) \/[a-z/-]+; Pylon's schema requires it\)/;

for (const lastPageCursor of ['empty', 'null', 'absent'] as const) {
  test(`--has-next-page absent, --last-page-cursor ${lastPageCursor}: import, update --where and export read every page`, async (t) => {
    const emulator = await startEmulator(t, { hasNextPage: 'absent', lastPageCursor });
    seedContacts(emulator.store, 1100);
    const dir = tempDir(t);
    const env = envFor(emulator);
    const all = [...emulator.store.all()];

    const out = join(dir, 'out.csv');
    const exported = await runCli(['export', out, ...FAST], { env, cwd: dir });
    t.is(exported.code, 0, exported.stderr);
    t.regex(exported.stderr, NOTE);
    t.is(exported.stderr.match(/without pagination\.has_next_page/g)?.length, 1, 'said once');
    t.is(readFileSync(out, 'utf8').trim().split('\n').length, 1101, 'every contact exported');

    const input = join(dir, 'in.csv');
    // The contacts as they are: the lookup reads every page, and a contact it missed would be created.
    writeFileSync(input, ['email,portal_role', ...all.map((c) => `${c.email},${c.portal_role}`)].join('\n') + '\n');
    const byList = await runCli(['import', input, '--lookup', 'list', ...FAST], { env, cwd: dir });
    t.is(byList.code, 0, byList.stderr);
    t.regex(byList.stderr, NOTE);
    t.regex(byList.stderr, /created 0, updated 0, unchanged 1,100/);

    const where = await runCli(['update', '--where', 'email~@acme', '--set', 'portal_role=no_access', ...FAST], { env, cwd: dir });
    t.is(where.code, 0, where.stderr);
    t.regex(where.stderr, NOTE);
    t.is(where.stderr.match(/without pagination\.has_next_page/g)?.length, 1, 'said once');
    const acme = all.filter((c) => c.email!.includes('@acme'));
    t.regex(where.stderr, new RegExp(`${acme.length} rows read`));
    t.regex(where.stderr, new RegExp(`updated ${acme.filter((c) => c.portal_role !== 'no_access').length}, unchanged ${acme.filter((c) => c.portal_role === 'no_access').length}, skipped 0, failed 0`));
  });
}

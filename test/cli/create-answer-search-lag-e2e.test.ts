/**
 * A server that answers a create with success but without the contact (200 `{}`: --create-answer empty), whose
 * search shows a new contact only 1.5 s after it is written (--search-lag-ms) and which accepts a second contact
 * with an email in use (--duplicate-email allow): each such create was looked up by email at once, missed (search
 * lagged; the lag was never measured, since no create answered with an id to measure it on), and sent again, up to
 * five times: a Front export (no contact id: nothing but the email refuses a second create) of 3 contacts stored
 * 15, reported "created 3". A create answered 2xx was applied: it is never sent again. The lag is measured on it by
 * its email, and it is found once search shows it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, notExactlyOnce, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

for (const answer of ['empty', 'no-content'] as const) {
  test(`--create-answer ${answer}, search lagging 1.5 s, duplicate emails allowed: each Front contact is created once, found by its email, and a second run writes nothing`, async (t) => {
    const emulator = await startEmulator(t, { createAnswer: answer, searchLagMs: 1500, duplicateEmail: 'allow' });
    const kept = emulator.store.insert({ name: 'Kept', email: 'kept@acme.example' });
    const keptBefore = structuredClone(kept);
    const dir = tempDir(t);
    const input = join(dir, 'contacts.csv');
    // Front's format: a BOM, CRLF, international numbers without "+", a row without an email.
    const rows = ['name,email,email2,phone,accountName', 'Ann Front,ann@acme.example,,442079460958,', 'Bo Front, BO@acme.example ,,,', 'No Mail,,,14155550142,', 'Cy Front,cy@acme.example,,,'];
    writeFileSync(input, '\uFEFF' + rows.join('\r\n') + '\r\n');
    const env = envFor(emulator);
    const args = ['import', input, '--from', 'front', '--rate', FAST_RATE, '--json', '--no-undo'];

    const run = await runCli([...args, '--results', join(dir, 'results.csv')], { env, cwd: dir });
    t.is(run.code, 3, run.stderr);
    t.like(statsOf(run), { total: 4, created: 3, updated: 0, skipped: 0, failed: 1 });
    t.deepEqual(notExactlyOnce(emulator, ['ann@acme.example', 'BO@acme.example', 'cy@acme.example']), [], 'each row is one contact');
    t.is(emulator.store.size, 4);
    t.deepEqual(emulator.store.get(kept.id), keptBefore);
    // Each created row names its contact.
    const results = readCsv(join(dir, 'results.csv'));
    for (const [line, email, name] of [['2', 'ann@acme.example', 'Ann Front'], ['3', 'BO@acme.example', 'Bo Front'], ['5', 'cy@acme.example', 'Cy Front']] as const) {
      const stored = [...emulator.store.all()].find((c) => c.email === email);
      t.like(stored, { name });
      t.like(results.find((r) => r._line === line), { _action: 'created', _contact_id: stored?.id }, email);
    }
    t.like(results.find((r) => r._line === '4'), { _action: 'failed' });

    const again = await runCli(args, { env, cwd: dir });
    t.is(again.code, 3, again.stderr);
    t.like(statsOf(again), { created: 0, updated: 0, unchanged: 3, skipped: 0, failed: 1 });
    t.is(emulator.store.size, 4);
  });
}

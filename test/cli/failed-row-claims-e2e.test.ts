/**
 * A row that fails still owns its email and its (label, id) among the file's
 * rows: a later row sharing one is a duplicate of it, as the docs say ("whether
 * that row was imported or not"). Before, a row that failed its checks claimed
 * nothing, so the later row was imported; fixing the first row and importing
 * the error report then rewrote that contact, and every run of the original
 * file rewrote it back. Checked for a plain import (a value the CLI refuses)
 * and for a migration (a phone number a preset refuses with
 * --on-bad-phone fail), under every --on-duplicate policy where it matters: the
 * dry run plans what the real run does, a re-run writes nothing, and the fixed
 * report run creates the first row's contact, which later runs leave alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, storedFields } from '../helpers/corpus.js';

const CASES = [
  {
    name: 'a plain import, the first row refused by a check',
    from: [] as string[],
    extra: [] as string[],
    header: 'name,email,avatar_url',
    first: 'Fay First,fay@claims.example,not a url',
    second: 'Sam Second,FAY@claims.example,',
    fix: (text: string) => text.replace('not a url', 'https://claims.example/fay.png'),
    code: 'ROW_INVALID_AVATAR',
    externalIds: [] as Array<[string, string]>,
  },
  {
    name: 'a HubSpot migration, the first row refused for its phone number, the second row sharing its Record ID',
    from: ['--from', 'hubspot'],
    extra: ['--on-bad-phone', 'fail', '--default-country', 'US'],
    header: 'Record ID,First Name,Last Name,Email,Phone Number',
    first: '601,Val,First,val.first@claims.example,12345',
    second: '601,Val,Second,val.second@claims.example,',
    fix: (text: string) => text.replace(/,12345(?=,|\r?\n)/, ',+12015550100'),
    code: undefined,
    externalIds: [['hubspot', '601']] as Array<[string, string]>,
  },
];

for (const c of CASES) {
  test(`${c.name}: the later row is its duplicate in the dry run and the real run, and the fixed report run takes the contact for good`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const input = join(dir, 'rows.csv');
    writeFileSync(input, [c.header, c.first, c.second, ''].join('\r\n'));

    const dry = await importFile(t, emulator, input, c.from, ['--dry-run', ...c.extra]);
    const real = await importFile(t, emulator, input, c.from, c.extra);
    t.is(writes(emulator), 0, 'nothing is written: the first row failed, the second is its duplicate');
    t.deepEqual(counts(real.stats), { ...counts(dry.stats) }, 'dry-run counts equal the real run');
    t.deepEqual(counts(real.stats), { total: 2, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 2 });
    const firstError = real.errors.find((r) => r._line === '2');
    if (c.code) t.is(firstError?._error_code, c.code);
    t.not(firstError?._error_code, 'ROW_DUPLICATE_IN_FILE');
    const secondError = real.errors.find((r) => r._line === '3');
    t.is(secondError?._error_code, 'ROW_DUPLICATE_IN_FILE');
    t.regex(secondError?._error_message ?? '', /^Duplicate of line 2 \(same (email|external id); --on-duplicate first\)$/);
    t.is(dry.errors.find((r) => r._line === '3')?._error_message, secondError?._error_message, 'the dry run says the same');

    // The user fixes the first row in the report and imports the report as it is: the first row's contact is created,
    // and the second row, still in the report, is still the first row's duplicate.
    const reportPath = join(dir, 'fixed.csv');
    const report = readFileSync(real.errorsPath, 'utf8');
    writeFileSync(reportPath, c.fix(report));
    const fixed = await importFile(t, emulator, reportPath, c.from, c.extra);
    t.is(fixed.stats.created, 1);
    t.is(fixed.errors.find((r) => r._error_code === 'ROW_DUPLICATE_IN_FILE')?._line, '3', 'the duplicate row fails again, as the duplicate of the fixed row');
    t.is(emulator.store.size, 1);
    const [contact] = [...emulator.store.all()];
    const stored = storedFields(emulator, contact!);
    const [firstName, firstEmail] = c.from.length === 0 ? [c.first.split(',')[0]!, c.first.split(',')[1]!] : ['Val First', 'val.first@claims.example'];
    t.is(stored.name, firstName);
    t.is(stored.email, firstEmail);
    t.deepEqual(stored.externalIds, c.externalIds);
    const after = JSON.stringify(contact);

    // The original file again (its first row now fixed too, as a user would after the report run), then as it was: neither run
    // writes the second row over the first row's contact.
    writeFileSync(input, c.fix([c.header, c.first, c.second, ''].join('\r\n')));
    const writesBefore = writes(emulator);
    const again = await importFile(t, emulator, input, c.from, c.extra);
    t.is(writes(emulator) - writesBefore, 0, 'the fixed original file writes nothing: its first row is in Pylon, its second is a duplicate');
    t.is(again.stats.unchanged, 1);
    t.is(again.errors.find((r) => r._line === '3')?._error_code, 'ROW_DUPLICATE_IN_FILE');
    writeFileSync(input, [c.header, c.first, c.second, ''].join('\r\n'));
    await importFile(t, emulator, input, c.from, c.extra);
    t.is(writes(emulator) - writesBefore, 0, 'the original file, its first row still failing, writes nothing');
    t.is(JSON.stringify(emulator.store.get(contact!.id)), after, 'the contact is as the fixed row made it');
  });
}

for (const policy of ['last', 'error'] as const) {
  test(`--on-duplicate ${policy}: a row failing a check still counts among the duplicates (the pre-pass), as with first`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const input = join(dir, 'rows.csv');
    // Line 2 is fine, line 3 shares its email and fails a check: under `last` line 3 is the kept row (it fails), under `error` neither is kept; either way line 2 is a duplicate.
    writeFileSync(input, ['name,email,avatar_url', 'Ann Fine,ann@claims.example,', 'Ann Later,ANN@claims.example,not a url', ''].join('\n'));
    const dry = await importFile(t, emulator, input, [], ['--dry-run', '--on-duplicate', policy]);
    const real = await importFile(t, emulator, input, [], ['--on-duplicate', policy]);
    t.deepEqual(counts(real.stats), counts(dry.stats));
    t.is(writes(emulator), 0);
    t.is(real.errors.find((r) => r._line === '2')?._error_code, 'ROW_DUPLICATE_IN_FILE');
    // A row that fails a check is reported for that first (fix the value, then it is judged as a duplicate).
    t.is(real.errors.find((r) => r._line === '3')?._error_code, 'ROW_INVALID_AVATAR');
  });
}

test('import --create-accounts: an account created for a row that then fails (its external id held by another contact) is named in the summary, with the row; accounts of rows written are not', async (t) => {
  const { envFor, FAST_RATE, runCli, statsOf } = await import('../helpers/cli.js');
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const zed = emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'other' }] });
  const input = join(dir, 'acc.csv');
  writeFileSync(input, ['name,email,company,legacy id', 'Ann,ann@lonely.example,Lonely Co,101', 'Bob,bob@busy.example,Busy Co,201', 'Cid,cid@busy.example,Busy Co,202'].join('\n') + '\n');
  const result = await runCli(
    ['import', input, '--account-match', 'name', '--account-column', 'company', '--create-accounts', '--external-id-column', 'legacy id', '--external-id-label', 'legacy', '--rate', FAST_RATE, '--json'],
    { env: envFor(emulator) },
  );
  t.is(result.code, 3, result.stderr);
  const stats = statsOf(result);
  t.like(stats, { created: 2, failed: 1 });
  const report = readFileSync(join(dir, 'acc.errors.csv'), 'utf8');
  t.regex(report, /ROW_EXTERNAL_ID_TAKEN/, report);
  const lonely = emulator.store.org.accounts.find((a) => a.name === 'Lonely Co');
  t.truthy(lonely, 'the account was created before the row was sent');
  t.false([...emulator.store.all()].some((c) => c.id !== zed.id && c.account?.id === lonely!.id), 'no contact is linked to it');
  const warned = stats.warnings.filter((w) => /--create-accounts created the account/.test(w));
  t.deepEqual(warned, [
    `--create-accounts created the account "Lonely Co" (${lonely!.id}) for rows that then failed (line 2): no contact is linked to it. Fix the rows and import the error report (they are matched to it then), or delete the account in Pylon`,
  ]);
});

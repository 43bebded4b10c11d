/**
 * A migration's header, through the built CLI against the emulator: columns a
 * preset would read only once (a name repeated), a header row repeated mid-file,
 * a header that only looks like a preset's (another CRM's export), the columns a
 * preset leaves unread, and the accounts --create-accounts makes (only for rows
 * that are written; counted in the dry run's forecast).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

/** One run of the built CLI on `content` (exit code, stdout, stderr), its outputs in the test's own folder. */
async function run(t: Parameters<typeof startEmulator>[0], emulator: { url: string }, content: string, args: string[], name = 'in.csv') {
  const dir = tempDir(t);
  const input = join(dir, name);
  writeFileSync(input, content);
  return runCli(['import', input, ...args, '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv'), '--results', join(dir, 'results.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
}

test('a column a preset reads, repeated in the header: exit 2 naming both columns, as the plain import, before any write (Intercom and HubSpot)', async (t) => {
  const emulator = await startEmulator(t);
  const intercom = await run(t, emulator, 'Name,Email,Phone,User ID,Phone,Email\nDup Ic,,+1 415 555 0101,icdup1,+1 415 555 0102,dupic@example.org\n', ['--from', 'intercom']);
  t.is(intercom.code, 2, intercom.stderr);
  t.regex(intercom.stderr, /Columns "Email" \(column 2\) and "Email" \(column 6\) both map to email; remove one/);
  const hubspot = await run(t, emulator, 'Record ID,First Name,Last Name,Email,Phone Number,Phone Number\n1,Ann,Lee,ann@dup.example,+1 415 555 0101,+1 415 555 0102\n', ['--from', 'hubspot']);
  t.is(hubspot.code, 2, hubspot.stderr);
  t.regex(hubspot.stderr, /Columns "Phone Number" \(column 5\) and "Phone Number" \(column 6\) both map to phone_numbers; remove one/);
  // The plain import's own wording, for comparison: the same refusal.
  const plain = await run(t, emulator, 'name,email,phone_numbers,phone_numbers\nAnn,ann@dup.example,+1 415 555 0101,+1 415 555 0102\n', []);
  t.is(plain.code, 2, plain.stderr);
  t.regex(plain.stderr, /Columns "phone_numbers" \(column 3\) and "phone_numbers" \(column 4\) both map to phone_numbers; remove one/);
  for (const res of [intercom, hubspot]) t.notRegex(res.stderr, /\n\s+at /, 'no stack trace');
  t.is(writes(emulator), 0);
});

test('a line repeating the header (two exports joined) fails ROW_REPEATED_HEADER with its columns as read: no phone note, no account counted or created, and a plain import says the same', async (t) => {
  const emulator = await startEmulator(t);
  const joined = 'Name,Email,Phone,User ID,Company name\nGood,good@zz.example,,g1,Real Company\nName,Email,Phone,User ID,Company name\nNext,next@zz.example,,n1,Real Company\n';
  for (const dryRun of [true, false]) {
    const dir = tempDir(t);
    const input = join(dir, 'joined.csv');
    writeFileSync(input, joined);
    const res = await runCli(['import', input, '--from', 'intercom', '--create-accounts', '--json', ...(dryRun ? ['--dry-run'] : []), '--rate', FAST_RATE, '--errors', join(dir, 'errors.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
    t.is(res.code, 3, res.stderr);
    t.like(JSON.parse(res.stdout), { total: 3, created: 2, failed: 1 }, 'the dry run counts what the real run does');
    const errors = readCsv(join(dir, 'errors.csv'));
    t.deepEqual(errors.map((e) => [e._line, e._error_code, e.Name, e.Email, e['Company name']]), [['3', 'ROW_REPEATED_HEADER', 'Name', 'Email', 'Company name']]);
    t.regex(errors[0]!._error_message, /repeats the header: two files joined\?/);
    t.notRegex(res.stderr, /phone number dropped/);
    t.notRegex(res.stderr, /"Company name"/, 'no account for the header line');
    t.regex(res.stderr, /accounts: 2 rows matched an account, 0 matched none/);
  }
  t.deepEqual(emulator.store.org.accounts.filter((a) => a.name === 'Company name'), []);
  t.deepEqual([...emulator.store.all()].map((c) => c.email).sort(), ['good@zz.example', 'next@zz.example']);
  const plain = await run(t, emulator, 'name,email\nAnn,ann@plain.example\nname,email\n', ['--json']);
  t.is(plain.code, 3, plain.stderr);
  t.like(JSON.parse(plain.stdout), { total: 2, created: 1, failed: 1 });
});

const ZOHO_HEADER = '"Record Id","Contact Owner","First Name","Last Name","Account Name","Account Name.id","Email","Phone","Mobile","Mailing Street","Mailing City","Mailing State","Mailing Zip","Description"';
const ZOHO_ROW = '"zcrm_1","Owner","Ann","Zed","Zed Co","zcrm_a1","ann@zed.example","+1 415 555 0101","+1 415 555 0102","1 Main St","SF","CA","94000","d"';

test('a Zoho CRM export is not taken for a HubSpot one: no "looks like a hubspot export" note, and --from hubspot stops (exit 2) saying the file\'s "Record Id" is not HubSpot\'s "Record ID"; nothing written', async (t) => {
  const emulator = await startEmulator(t);
  const plain = await run(t, emulator, `${ZOHO_HEADER}\n${ZOHO_ROW}\n`, ['--dry-run'], 'zoho.csv');
  t.notRegex(plain.stderr, /looks like a hubspot export/);
  const hubspot = await run(t, emulator, `${ZOHO_HEADER}\n${ZOHO_ROW}\n`, ['--from', 'hubspot'], 'zoho.csv');
  t.is(hubspot.code, 2, hubspot.stderr);
  t.regex(hubspot.stderr, /matches no hubspot preset\. Closest: .*hubspot\.json\), which needs "Record ID", not in the file \(the file's "Record Id" is not "Record ID": this preset compares its labels in exact case/);
  t.is(writes(emulator), 0);
  t.is(emulator.store.size, 0);
});

test('every preset run notes the preset\'s columns the file lacks and the file\'s columns it does not read; unread columns that look like phones or emails are a warning (summary and --json)', async (t) => {
  const emulator = await startEmulator(t);
  // HubSpot's labels, but another system's phone columns (and a second email): without the warning their values vanish.
  const file = 'Record ID,First Name,Last Name,Email,Phone,Mobile,Other Email,Contact Owner,_note\n7,Ann,Zed,ann@zed.example,+1 415 555 0101,+1 415 555 0102,ann@home.example,Owner,x\n';
  const dry = await run(t, emulator, file, ['--from', 'hubspot', '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stderr, /^the hubspot preset: not in the file, left out: "Country\/Region", "Phone Number", "Mobile Phone Number", "Additional email addresses"; columns of the file it does not read \(not imported\): "Phone", "Mobile", "Other Email", "Contact Owner"$/m);
  t.regex(dry.stdout + dry.stderr, /warning: columns "Phone", "Mobile" of the file look like phone numbers, but the hubspot preset does not read them: their values are not imported\. If the file is not the export the hubspot preset is for, import it with the right --from; otherwise copy .*hubspot\.json, add the columns to fields\.phone_numbers and pass it with --map/);
  t.regex(dry.stdout + dry.stderr, /warning: column "Other Email" of the file looks like email addresses, but the hubspot preset does not read it/);
  const real = await run(t, emulator, file, ['--from', 'hubspot', '--json']);
  t.is(real.code, 0, real.stderr);
  const stats = JSON.parse(real.stdout) as { warnings: string[] };
  t.true(stats.warnings.some((w) => w.startsWith('columns "Phone", "Mobile" of the file look like phone numbers')), stats.warnings.join('\n'));
  // A file the preset reads whole says so, in one line too.
  const intercom = await run(t, emulator, 'Name,Email,Phone,User ID,Company name\nBo,bo@full.example,+1 415 555 0103,u9,Full Co\n', ['--from', 'intercom', '--dry-run']);
  t.is(intercom.code, 0, intercom.stderr);
  t.regex(intercom.stderr, /^the intercom preset: not in the file, left out: "Country", "role"; it reads every column of the file$/m);
  t.notRegex(intercom.stdout + intercom.stderr, /warning: column/);
});

test('--create-accounts creates accounts only for rows that are written: not for a repeated header, an invalid email, a row without its id, nor an in-file duplicate (first and last); the dry run lists the same', async (t) => {
  const file = [
    'Name,Email,Phone,User ID,Company name',
    'Good,good@zz.example,,g1,Real Company', // 2
    'Name,Email,Phone,User ID,Company name', // 3: the header again
    'Bad,not-an-email,,b1,Ghost Company', // 4: ROW_INVALID_EMAIL
    'NoId,noid@yy.example,,,Orphan Company', // 5: ROW_EXTERNAL_ID_MISSING
    'Again,GOOD@zz.example,,g2,Dup Company', // 6: line 2's email
    '',
  ].join('\n');
  for (const [policy, kept, dropped] of [['first', 'Real Company', 'Dup Company'], ['last', 'Dup Company', 'Real Company']] as const) {
    const emulator = await startEmulator(t);
    const accountsBefore = emulator.store.org.accounts.length;
    const dry = await run(t, emulator, file, ['--from', 'intercom', '--create-accounts', '--on-duplicate', policy, '--dry-run', '--json']);
    t.is(dry.code, 3, dry.stderr);
    t.regex(dry.stderr, new RegExp(`accounts: would create 1 account: "${kept}" \\(1 row\\)\\n`), policy);
    const real = await run(t, emulator, file, ['--from', 'intercom', '--create-accounts', '--on-duplicate', policy, '--json']);
    t.is(real.code, 3, real.stderr);
    t.like(JSON.parse(real.stdout), { total: 5, created: 1, failed: 4 });
    t.regex(real.stderr, new RegExp(`accounts: created 1 account: "${kept}" \\(1 row\\)\\n`), policy);
    t.regex(real.stderr, /accounts: 1 row matched an account, 0 matched none/, 'failed rows count in no account figure');
    for (const res of [dry, real]) for (const name of ['Ghost Company', 'Orphan Company', dropped]) t.notRegex(res.stderr, new RegExp(name), `${policy}: ${name}`);
    const created = emulator.store.org.accounts.slice(accountsBefore);
    t.deepEqual(created.map((a) => a.name), [kept], policy);
    const contact = [...emulator.store.all()][0]!;
    t.is(contact.account?.id, created[0]!.id);
  }
});

test('the dry run\'s API-call forecast counts the accounts --create-accounts would create: it equals the real run\'s calls', async (t) => {
  const emulator = await startEmulator(t);
  const file = ['Name,Email,Phone,User ID,Company name', ...Array.from({ length: 6 }, (_, i) => `P${i},p${i}@forecast.example,,f${i},Forecast ${i % 3}`), ''].join('\n');
  const nonZero = (calls: Record<string, number>) => Object.fromEntries(Object.entries(calls).filter(([, n]) => n > 0));
  const dry = await run(t, emulator, file, ['--from', 'intercom', '--create-accounts', '--dry-run', '--json']);
  t.is(dry.code, 0, dry.stderr);
  const planned = (JSON.parse(dry.stdout) as { plannedCalls: Record<string, number> }).plannedCalls;
  t.is(planned.create, 9, '3 accounts and 6 contacts');
  t.regex(dry.stdout + dry.stderr, /accounts: would create 3 accounts/);
  const real = await run(t, emulator, file, ['--from', 'intercom', '--create-accounts', '--json']);
  t.is(real.code, 0, real.stderr);
  // Every endpoint as forecast, the real run's one search measuring how soon a new contact shows (search-visibility.ts) included.
  t.deepEqual(nonZero((JSON.parse(real.stdout) as { calls: Record<string, number> }).calls), nonZero(planned));
  t.deepEqual(emulator.store.org.accounts.filter((a) => a.name?.startsWith('Forecast ')).map((a) => a.name).sort(), ['Forecast 0', 'Forecast 1', 'Forecast 2']);
  t.is(emulator.store.size, 6);
});

/**
 * Two records of one system meeting at one contact (issue 18): Pylon holds
 * HubSpot record 777 with x@; the next export gives record 777 the email y@ and
 * a new record 778 the email x@. Record 777's row owns that contact (matched by
 * its (label, id)); record 778's row finds it by email only. Whichever comes
 * first in the file, the contact stays record 777's (its own row changes its
 * email), record 778's row fails naming that contact and line, and the next run
 * creates record 778. Before, both rows updated the one contact: it ended as
 * record 778 with record 777's new email, record 777 lost for good.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, storedFields } from '../helpers/corpus.js';

const HEADER = 'Record ID,First Name,Last Name,Email';
const XAVIER_777 = '777,Xavier,One,x@records.example';
const XAVIER_777_MOVED = '777,Xavier,One,y@records.example';
const OTHER_778 = '778,Olga,Two,x@records.example';

function csv(dir: string, name: string, rows: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, [HEADER, ...rows, ''].join('\r\n'));
  return path;
}

const CASES = [
  { order: [XAVIER_777_MOVED, OTHER_778], extra: [] as string[], title: 'record 777 first, --lookup auto (list)' },
  { order: [OTHER_778, XAVIER_777_MOVED], extra: ['--lookup', 'search', '--on-duplicate', 'last'], title: 'record 778 first, --lookup search, --on-duplicate last' },
];

for (const { order, extra, title } of CASES) {
  test(`a new record's email on an existing record's contact (${title}): that contact stays the existing record's, the new row fails naming it, the next run creates it`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const first = await importFile(t, emulator, csv(dir, 'first.csv', [XAVIER_777]), 'hubspot', extra);
    t.is(first.stats.created, 1);
    const xavierId = first.results[0]!._contact_id!;

    const input = csv(dir, 'second.csv', order);
    const line778 = String(order.indexOf(OTHER_778) + 2);
    const line777 = String(order.indexOf(XAVIER_777_MOVED) + 2);
    const dry = await importFile(t, emulator, input, 'hubspot', ['--dry-run', ...extra]);
    t.is(writes(emulator), 1, 'the dry run writes nothing');
    const real = await importFile(t, emulator, input, 'hubspot', extra);
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    t.like(real.stats, { total: 2, updated: 1, failed: 1 });

    t.deepEqual(storedFields(emulator, emulator.store.get(xavierId)!), { name: 'Xavier One', email: 'y@records.example', phones: [], externalIds: [['hubspot', '777']] }, 'record 777 keeps its contact; only its own row changed it');
    t.is(real.results.find((r) => r._line === line777)?._contact_id, xavierId);
    for (const run of [dry, real]) {
      const failure = run.errors.find((r) => r._line === line778);
      t.is(failure?._error_code, 'ROW_EMAIL_OF_OTHER_RECORD');
      t.regex(failure?._error_message ?? '', new RegExp(`held by contact ${xavierId}, which is hubspot record 777, and line ${line777} of this file is that record`));
    }
    t.is(emulator.store.size, 1);

    // Record 777's new email is in Pylon: the next run creates record 778, and the one after writes nothing.
    const third = await importFile(t, emulator, input, 'hubspot', extra);
    t.like(third.stats, { created: 1, unchanged: 1, failed: 0 });
    const olga = emulator.store.get(third.results.find((r) => r._line === line778)!._contact_id!)!;
    t.deepEqual(storedFields(emulator, olga), { name: 'Olga Two', email: 'x@records.example', phones: [], externalIds: [['hubspot', '778']] });
    const before = writes(emulator);
    const fourth = await importFile(t, emulator, input, 'hubspot', extra);
    t.is(writes(emulator) - before, 0, 'a re-run sends no write');
    t.is(fourth.stats.unchanged, 2);
  });
}

// The boundary: a file without record 777 (merged into 778 in HubSpot) moves the contact to record 778, as docs/migrate.md says.
test('a record whose email a contact of another record holds, that record not in the file: the contact takes the new id (a merge in the source)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const first = await importFile(t, emulator, csv(dir, 'first.csv', [XAVIER_777]), 'hubspot');
  const xavierId = first.results[0]!._contact_id!;
  const merged = await importFile(t, emulator, csv(dir, 'merged.csv', [OTHER_778]), 'hubspot');
  t.like(merged.stats, { updated: 1, failed: 0 });
  t.deepEqual(storedFields(emulator, emulator.store.get(xavierId)!), { name: 'Olga Two', email: 'x@records.example', phones: [], externalIds: [['hubspot', '778']] });
});

// Records 501 and 502 swap emails in the source, and record 503 takes the email record 504 gives up. Pylon refuses a contact
// an email another holds, so what a write does would depend on the order the writes land in; the lookup decides instead:
// a row whose contact would take an email another contact holds fails, in the dry run too, and nothing is written for it.
test('a record taking an email another contact holds fails (ROW_EMAIL_TAKEN) in the dry run as in the real run; once the other gave it up, the next run moves it', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const rows = (emails: string[]) => emails.map((email, i) => `${501 + i},Person,${501 + i},${email}`);
  await importFile(t, emulator, csv(dir, 'first.csv', rows(['a@swap.example', 'b@swap.example', 'c@swap.example', 'd@swap.example'])), 'hubspot');
  const before = new Map([...emulator.store.all()].map((c) => [c.external_ids![0]!.external_id, c.id]));
  const input = csv(dir, 'second.csv', rows(['b@swap.example', 'a@swap.example', 'd@swap.example', 'e@swap.example']));
  const dry = await importFile(t, emulator, input, 'hubspot', ['--dry-run']);
  const real = await importFile(t, emulator, input, 'hubspot');
  t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
  t.like(real.stats, { total: 4, updated: 1, failed: 3 });
  for (const run of [dry, real]) {
    for (const [line, record, email, holder] of [['2', '501', 'b@swap.example', '502'], ['3', '502', 'a@swap.example', '501'], ['4', '503', 'd@swap.example', '504']] as const) {
      const failure = run.errors.find((r) => r._line === line);
      t.is(failure?._error_code, 'ROW_EMAIL_TAKEN', `line ${line}`);
      t.regex(failure?._error_message ?? '', new RegExp(`Contact ${before.get(record)} \\(matched by its external id ${record}\\) would take the email ${email}, which contact ${before.get(holder)} holds`));
    }
  }
  const emails = () => Object.fromEntries([...emulator.store.all()].map((c) => [c.external_ids![0]!.external_id, c.email]));
  t.deepEqual(emails(), { '501': 'a@swap.example', '502': 'b@swap.example', '503': 'c@swap.example', '504': 'e@swap.example' });
  // Record 504 gave up d@: record 503 takes it now; the swap stays refused until one of the two is fixed.
  const third = await importFile(t, emulator, input, 'hubspot');
  t.like(third.stats, { updated: 1, unchanged: 1, failed: 2 });
  t.deepEqual(emails(), { '501': 'a@swap.example', '502': 'b@swap.example', '503': 'd@swap.example', '504': 'e@swap.example' });
  t.is(emulator.store.size, 4);
});

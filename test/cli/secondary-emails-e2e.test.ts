/**
 * Secondary emails (an `emails` column; HubSpot's `Additional email addresses`, Freshdesk's
 * `other_emails`, Front's `email2…5`) find a contact when the row's email (and external id) find
 * none: HubSpot puts a merged contact's old address there, and the contact Pylon holds under that
 * address is updated (its email becomes the row's) instead of a second contact being created. A row
 * never takes a contact it does not own: secondary emails matching two contacts fail the row, a
 * secondary email another row of the file has is a duplicate (one email, one row), and a contact
 * another row finds by its own email is that row's. The dry run counts what the real run does, by
 * list and by search, and a second run writes nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, snapshot, storedFields } from '../helpers/corpus.js';

function csv(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, [...lines, ''].join('\n'));
  return path;
}

const LOOKUPS = ['auto', 'search'] as const;

for (const lookup of LOOKUPS) {
  const extra = ['--lookup', lookup];

  test(`--lookup ${lookup}: a HubSpot row whose Additional email addresses hold a contact's address updates that contact (its email becomes the row's) instead of creating a second one`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const seed = await importFile(t, emulator, csv(dir, 'seed.csv', ['name,email', 'Old Alice,alice.old@acme.example']), []);
    const aliceId = seed.results[0]!._contact_id!;
    const input = csv(dir, 'hubspot.csv', ['Record ID,First Name,Last Name,Email,Additional email addresses', '701,Alice,Merged,alice.new@acme.example,alice.old@acme.example']);

    const dry = await importFile(t, emulator, input, 'hubspot', ['--dry-run', ...extra]);
    t.is(writes(emulator), 1, 'the dry run writes nothing');
    const real = await importFile(t, emulator, input, 'hubspot', extra);
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    t.like(real.stats, { created: 0, updated: 1, failed: 0 });
    t.is(real.results[0]?._contact_id, aliceId);
    t.is(emulator.store.size, 1, 'one contact for one person');
    t.deepEqual(storedFields(emulator, emulator.store.get(aliceId)!), { name: 'Alice Merged', email: 'alice.new@acme.example', phones: [], externalIds: [['hubspot', '701']], account: 'Acme Inc' });

    const before = writes(emulator);
    const again = await importFile(t, emulator, input, 'hubspot', extra);
    t.is(writes(emulator) - before, 0, 'a second run writes nothing');
    t.like(again.stats, { unchanged: 1, failed: 0 });
  });

  test(`--lookup ${lookup}: secondary emails matching two contacts fail the row naming both; a secondary email another row has (as its email or a secondary one) is a duplicate`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const a = emulator.store.insert({ name: 'A Old', email: 'a.old@x.example' });
    const b = emulator.store.insert({ name: 'B Old', email: 'b.old@x.example' });
    const input = csv(dir, 'people.csv', [
      'name,email,emails',
      'Bo,bo.new@x.example,a.old@x.example;B.Old@x.example',
      'Cy,cy@x.example,',
      'Cy Two,cy2@x.example,CY@x.example',
      'Di,di@x.example,shared@x.example',
      'Ed,shared@x.example,',
      'Fi,fi@x.example,shared@x.example;fi.old@x.example',
    ]);
    const untouched = snapshot(emulator);
    const dry = await importFile(t, emulator, input, [], ['--dry-run', ...extra]);
    const real = await importFile(t, emulator, input, [], extra);
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    for (const run of [dry, real]) {
      run.errors.sort((x, y) => Number(x._line) - Number(y._line));
      t.deepEqual(run.errors.map((e) => [e._line, e._error_code, e._error_field]), [
        ['2', 'ROW_AMBIGUOUS_MATCH', 'emails'],
        ['4', 'ROW_DUPLICATE_IN_FILE', 'emails'],
        ['6', 'ROW_DUPLICATE_IN_FILE', 'email'],
        ['7', 'ROW_DUPLICATE_IN_FILE', 'emails'],
      ]);
      const ambiguous = run.errors[0]!._error_message!;
      t.regex(ambiguous, new RegExp(`a\\.old@x\\.example: ${a.id}; b\\.old@x\\.example: ${b.id}`));
      t.regex(run.errors[1]!._error_message!, /Duplicate of line 3 \(same email: one of its secondary emails is an email of that row/);
      t.regex(run.errors[2]!._error_message!, /Duplicate of line 5 \(same email;/);
      t.regex(run.errors[3]!._error_message!, /Duplicate of line 5 /);
    }
    t.like(real.stats, { created: 2, failed: 4 });
    for (const [id, json] of untouched) t.is(JSON.stringify(emulator.store.get(id)), json, `contact ${id} unchanged`);
    const before = writes(emulator);
    await importFile(t, emulator, input, [], extra);
    t.is(writes(emulator) - before, 0, 'a second run writes nothing');
  });

  for (const order of ['secondary row first', 'owner row first'] as const) {
    test(`--lookup ${lookup}, ${order}: a contact found by a secondary email whose own address another row of the file has stays that row's; the row fails naming it`, async (t) => {
      const emulator = await startEmulator(t);
      const dir = tempDir(t);
      const fay = emulator.store.insert({ name: 'Fay', email: 'fay@x.example', emails: ['fay@x.example', 'fay.old@x.example'] });
      const secondaryRow = 'Fay New,fay.new@x.example,fay.old@x.example';
      const ownerRow = 'Fay,fay@x.example,';
      const rows = order === 'secondary row first' ? [secondaryRow, ownerRow] : [ownerRow, secondaryRow];
      const secondaryLine = String(rows.indexOf(secondaryRow) + 2);
      const ownerLine = String(rows.indexOf(ownerRow) + 2);
      const input = csv(dir, 'people.csv', ['name,email,emails', ...rows]);
      const dry = await importFile(t, emulator, input, [], ['--dry-run', ...extra]);
      const real = await importFile(t, emulator, input, [], extra);
      t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
      t.like(real.stats, { unchanged: 1, failed: 1, created: 0, updated: 0 });
      for (const run of [dry, real]) {
        const failure = run.errors.find((e) => e._line === secondaryLine);
        t.is(failure?._error_code, 'ROW_EMAIL_OF_OTHER_RECORD');
        t.regex(failure?._error_message ?? '', new RegExp(`secondary email fay\\.old@x\\.example is held by contact ${fay.id}, whose address fay@x\\.example line ${ownerLine} of this file has`));
      }
      t.is(emulator.store.get(fay.id)?.email, 'fay@x.example', 'the contact keeps its email');
      t.is(emulator.store.size, 1);
    });
  }
}

for (const lookup of LOOKUPS) {
  const extra = ['--lookup', lookup];

  test(`--lookup ${lookup}: a row whose secondary email is another system's contact fails naming it, before any write, and two sources no longer rewrite that contact in turn`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const carol = emulator.store.insert({ name: 'Carol Z', email: 'carol@other.example', external_ids: [{ external_id: '905', label: 'zendesk' }] });
    const freshdesk = csv(dir, 'freshdesk.csv', ['id,name,email,phone,mobile,other_emails', '5001,Sam F,sam@acme.example,,,carol@other.example']);
    const hubspot = csv(dir, 'hubspot.csv', ['Record ID,First Name,Last Name,Email,Additional email addresses', '51001,Sam,Hub,sam@acme.example,carol@other.example']);
    const zendesk = join(dir, 'zendesk.json');
    writeFileSync(zendesk, JSON.stringify([{ id: 905, name: 'Carol Z', email: 'carol@other.example', phone: null, organization_id: null, role: 'end-user', active: true, suspended: false }]));
    const untouched = snapshot(emulator);
    for (const [input, from] of [[freshdesk, 'freshdesk'], [hubspot, 'hubspot']] as const) {
      const dry = await importFile(t, emulator, input, from, ['--dry-run', ...extra]);
      const real = await importFile(t, emulator, input, from, extra);
      t.deepEqual(counts(real.stats), counts(dry.stats), `${from}: dry-run counts equal the real run`);
      t.like(real.stats, { created: 0, updated: 0, failed: 1 });
      for (const run of [dry, real]) {
        t.deepEqual(run.errors.map((e) => [e._line, e._error_code, e._error_field]), [['2', 'ROW_EMAIL_OF_OTHER_RECORD', 'emails']]);
        t.regex(run.errors[0]!._error_message!, new RegExp(`secondary email carol@other\\.example is held by contact ${carol.id}, which is zendesk record 905: this row is not written over it`));
      }
      // The plan (the dry run's results) shows the row failed, as the real run does.
      t.deepEqual(dry.results.map((r) => [r._line, r._action]), [['2', 'failed']]);
    }
    for (const [id, json] of untouched) t.is(JSON.stringify(emulator.store.get(id)), json, `contact ${id} unchanged`);
    const before = writes(emulator);
    for (const [input, from] of [[freshdesk, 'freshdesk'], [zendesk, 'zendesk'], [freshdesk, 'freshdesk'], [zendesk, 'zendesk']] as const) {
      const run = await importFile(t, emulator, input, from, extra);
      t.is(run.stats.updated, 0, `${from}: nothing updated`);
    }
    t.is(writes(emulator) - before, 0, 'runs of both sources write nothing');
    t.like(emulator.store.get(carol.id), { name: 'Carol Z', email: 'carol@other.example' });
  });

  test(`--lookup ${lookup}: a row whose secondary email is only a secondary address of a contact with another primary email fails naming it`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const dan = emulator.store.insert({ name: 'Dan', email: 'dan@x.example', emails: ['dan@x.example', 'dan.alt@x.example'] });
    const input = csv(dir, 'people.csv', ['name,email,emails', 'Eve,eve@x.example,dan.alt@x.example']);
    const dry = await importFile(t, emulator, input, [], ['--dry-run', ...extra]);
    const real = await importFile(t, emulator, input, [], extra);
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    for (const run of [dry, real]) {
      t.deepEqual(run.errors.map((e) => [e._line, e._error_code, e._error_field]), [['2', 'ROW_EMAIL_OF_OTHER_RECORD', 'emails']]);
      t.regex(run.errors[0]!._error_message!, new RegExp(`secondary email dan\\.alt@x\\.example is held by contact ${dan.id}, which is the contact of dan@x\\.example, an address this row does not have`));
    }
    t.like(emulator.store.get(dan.id), { name: 'Dan', email: 'dan@x.example' });
  });
}

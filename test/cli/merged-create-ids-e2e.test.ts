/**
 * A create the server merges into the contact holding its email (emulator `--duplicate-email merge`: the body applied
 * to that contact as a PATCH) replaces the holder's external ids when the create sends any: a row with an external id
 * of its own (every migration's), or any row under `--idempotency-key external-id`. The holder's own ids are then
 * gone from the answer, so they cannot show that it existed; its other values the create did not send (phone numbers,
 * custom field values, avatar) still do. Such a row used to be counted `created`, the holder's values overwritten and
 * its external id lost, with no undo row and nothing said. Real emulator, fault proxy making the racing contact, CLI child.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FAST_RATE, LATE, envFor, runCli, spawnCli, startEmulator, startFaultProxy, statsOf, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE, '--json', '-q'];
const readCsv = (path: string) => parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;

for (const [title, header, row, flags] of [
  ['a row with its own external id', 'name,email,external_id,external_id_label', 'Row Ext,ext@acme.example,001A,salesforce', []],
  ['--idempotency-key external-id', 'name,email', 'Row Ext,ext@acme.example', ['--idempotency-key', 'external-id']],
] as const) {
  test(`import (${title}): a create merged into a holder with an external id and a phone number fails ROW_MERGED_BY_SERVER`, async (t) => {
    const em = await startEmulator(t, { duplicateEmail: 'merge' });
    let racer: string | undefined;
    const proxy = await startFaultProxy(t, em, (req) => {
      if (req.method !== 'POST' || req.path !== '/contacts' || racer) return undefined;
      // Another client makes the contact just before this create reaches Pylon (after the lookup).
      racer = em.store.insert({ name: 'Racer', email: 'ext@acme.example', phone_numbers: ['14155550101'], primary_phone_number: '14155550101', external_ids: [{ external_id: 'hs-9', label: 'hubspot' }] }).id;
      return undefined;
    });
    const dir = tempDir(t);
    const input = join(dir, 'c.csv');
    writeFileSync(input, `${header}\n${row}\nFresh,fresh@acme.example${header.includes('external_id') ? ',001B,salesforce' : ''}\n`);
    const result = await runCli(['import', input, ...FAST, ...flags], { env: envFor(proxy) });
    t.is(result.code, 3, result.stderr);
    t.like(statsOf(result), { total: 2, created: 1, failed: 1 });
    const errors = readCsv(join(dir, 'c.errors.csv'));
    t.deepEqual(errors.map((e) => [e._line, e.email, e._error_code]), [['2', 'ext@acme.example', 'ROW_MERGED_BY_SERVER']]);
    t.regex(errors[0]!._error_message, new RegExp(`contact ${racer}, which existed before it \\(it holds the phone number 14155550101`));
    t.is([...em.store.all()].length, 2, 'one contact per email');
    // The fresh contact, which the create made, holds only what it sent: counted created.
    const fresh = [...em.store.all()].find((c) => c.email === 'fresh@acme.example')!;
    t.truthy(fresh);
    t.notRegex(result.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
    // The same file again writes nothing: the merged row finds the contact and changes nothing more (as the message says).
    const patches = em.stats().requests.patch;
    const second = await runCli(['import', input, ...FAST, ...flags], { env: envFor(em) });
    t.is(second.code, 0, second.stderr);
    t.like(statsOf(second), { total: 2, created: 0, updated: 0, unchanged: 2, failed: 0 });
    t.is(em.stats().requests.patch, patches);
    // A genuine create sending phone numbers and ids is not taken for a merged one.
    const more = join(dir, 'more.csv');
    writeFileSync(more, `${header},phone_numbers,primary_phone_number\n${header.includes('external_id') ? 'Phoned,ph@acme.example,001C,salesforce' : 'Phoned,ph@acme.example'},14155550199;12025550123,12025550123\n`);
    const again = await runCli(['import', more, ...FAST, ...flags], { env: envFor(em) });
    t.is(again.code, 0, again.stderr);
    t.like(statsOf(again), { total: 1, created: 1, failed: 0 });
    t.deepEqual([...([...em.store.all()].find((c) => c.email === 'ph@acme.example')?.phone_numbers ?? [])].sort(), ['12025550123', '14155550199']);
  });
}

test('import killed while a genuine create with an external id and phone numbers is unanswered: --resume counts it created, not merged', async (t) => {
  const em = await startEmulator(t, { duplicateEmail: 'merge' });
  let held = false;
  const proxy = await startFaultProxy(t, em, (req) => {
    if (req.method !== 'POST' || req.path !== '/contacts' || held) return undefined;
    held = true;
    // Held until the killed client's connection closes, then applied: the answer is lost.
    return LATE;
  });
  const dir = tempDir(t);
  const input = join(dir, 'c.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label,phone_numbers,primary_phone_number\nRow New,new@acme.example,001N,salesforce,14155550199;12025550123,12025550123\n');
  const env = envFor(proxy);
  const first = spawnCli(['import', input, ...FAST, '--timeout', '60000'], { env });
  while (proxy.injected.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  first.child.kill('SIGKILL');
  await first.result;
  while ([...em.store.all()].length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const resumed = await runCli(['import', input, ...FAST, '--resume', '--timeout', '1000'], { env });
  t.is(resumed.code, 0, resumed.stderr);
  t.like(statsOf(resumed), { total: 1, created: 1, failed: 0 });
  const all = [...em.store.all()];
  t.is(all.length, 1, 'one contact: the create was not sent again');
  t.like(all[0], { email: 'new@acme.example', primary_phone_number: '12025550123' });
});

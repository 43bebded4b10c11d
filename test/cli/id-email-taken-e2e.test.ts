/**
 * `update` of an `id,email` file whose email another contact holds: Pylon refuses that PATCH. The
 * list lookup knows the holder, and search looks the email up when the row's contact does not hold
 * it, so the dry run, the plan and the real run fail the row the same way (ROW_EMAIL_TAKEN) before
 * any write, by list and by search; the results file names the row's contact either way.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { SavedPlan } from '../../src/update/plan-file.js';
import { FAST_RATE, envFor, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const FAST = ['--rate', FAST_RATE];
const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

for (const lookup of ['list', 'search']) test(`update id,email where the email is another contact’s (--lookup ${lookup}): the dry run, the plan and the real run fail it alike (ROW_EMAIL_TAKEN), nothing sent for it; _contact_id is filled`, async (t) => {
  const emulator = await startEmulator(t);
  const ann = emulator.store.insert({ name: 'Ann', email: 'ann@x.example' });
  const bob = emulator.store.insert({ name: 'Bob', email: 'bob@x.example' });
  const cy = emulator.store.insert({ name: 'Cy', email: 'cy@x.example' });
  const dir = tempDir(t, 'pylon-id-email-');
  const env = { ...envFor(emulator), PYLON_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const input = join(dir, 'emails.csv');
  // Ann would take Bob's address; Cy's row changes its own.
  writeFileSync(input, `id,email\n${ann.id},bob@x.example\n${cy.id},cy.new@x.example\n`);
  const results = join(dir, 'results.csv');
  const args = ['update', input, '--lookup', lookup, '--yes', '--json', '--results', results, ...FAST];
  const expectTaken = () => {
    const errors = readCsv(join(dir, 'emails.errors.csv'));
    t.is(errors.length, 1);
    t.like(errors[0], { id: ann.id, _line: '2', _error_code: 'ROW_EMAIL_TAKEN', _error_field: 'email' });
    t.regex(errors[0]._error_message, new RegExp(`matched by its id ${ann.id}\\) would take the email bob@x\\.example, which contact ${bob.id} holds`));
    t.like(readCsv(results)[0], { _line: '2', _action: 'failed', _contact_id: ann.id });
  };

  const dry = await runCli([...args, '--dry-run'], { env });
  t.is(dry.code, 3, dry.stderr);
  t.like(statsOf(dry), { updated: 1, failed: 1 });
  expectTaken();

  const planPath = join(dir, 'plan.json');
  const planned = await runCli([...args.filter((a) => a !== results && a !== '--results'), '--plan-out', planPath], { env });
  t.is(planned.code, 3, planned.stderr);
  t.deepEqual((JSON.parse(readFileSync(planPath, 'utf8')) as SavedPlan).changes.map((c) => c.id), [cy.id], 'the plan leaves the row out');

  const real = await runCli(args, { env });
  t.is(real.code, 3, real.stderr);
  t.like(statsOf(real), { updated: 1, failed: 1 });
  expectTaken();
  t.is(emulator.stats().requests.patch, 1, 'no PATCH for the row that fails');
  t.is(emulator.store.get(ann.id)?.email, 'ann@x.example');
  t.is(emulator.store.get(cy.id)?.email, 'cy.new@x.example');
});

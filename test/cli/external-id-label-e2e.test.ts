/**
 * A row whose external id another contact holds under another label (hubspot:101 beside zendesk:101:
 * two systems, two people). Pylon documents external ids as unique per contact type; a server may
 * keep them per label. The real run sends the write and lets the server decide, by list and by
 * search alike: a refusal fails the row ROW_EXTERNAL_ID_TAKEN naming the holder, a per-label server
 * takes it. What the host did is remembered (servers.json in the state folder), and the dry run
 * predicts from it: unknown, Pylon's documented refusal, said to be unverified for this host.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DEFAULT_ME } from '../../src/emulator/index.js';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';
import { readCsv } from '../helpers/corpus.js';

const MODES = ['reject', 'reject-plain', 'per-label'] as const;
const LOOKUPS = ['list', 'search'] as const;

for (const mode of MODES) {
  for (const lookup of LOOKUPS) {
    test(`--external-id-taken ${mode}, --lookup ${lookup}: the write is sent and the server decides; the dry run predicts from what this host was seen to do`, async (t) => {
      const emulator = await startEmulator(t, { externalIdTaken: mode });
      const dir = tempDir(t);
      const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
      const zed = emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });
      const zoe = emulator.store.insert({ name: 'Zoe', email: 'zoe@x.example', external_ids: [{ external_id: '102', label: 'zendesk' }] });
      const holders = JSON.stringify([emulator.store.get(zed.id), emulator.store.get(zoe.id)]);
      const file = (name: string, row: string) => {
        const path = join(dir, name);
        writeFileSync(path, `name,email,external_id,external_id_label\n${row}\n`);
        return path;
      };
      const run = async (input: string, extra: string[] = []) => {
        const errors = join(dir, `errors-${Math.random().toString(36).slice(2)}.csv`);
        const res = await runCli(['import', input, '--lookup', lookup, '--rate', FAST_RATE, '--errors', errors, '--json', ...extra], { env, cwd: dir });
        t.true(res.code === 0 || res.code === 3, res.stderr);
        return { stats: statsOf(res), errors: readCsv(errors), stderr: res.stderr };
      };
      const ann = file('ann.csv', 'Ann,ann@x.example,101,hubspot');

      // Nothing known about this host: the list lookup sees the holder and predicts Pylon's documented refusal, unverified.
      const dry = await run(ann, ['--dry-run']);
      if (lookup === 'list') {
        t.like(dry.stats, { created: 0, failed: 1 });
        t.is(dry.errors[0]?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
        t.regex(dry.errors[0]?._error_message ?? '', new RegExp(`held by contact ${zed.id} under label "zendesk".*has not yet been seen to refuse or take one, so this is unverified`));
        t.regex(dry.stderr, /has not been seen yet, so that is unverified/);
      } else {
        // Search cannot filter on external ids: the holder is not seen before the write.
        t.like(dry.stats, { created: 1, failed: 0 });
      }

      const real = await run(ann);
      if (mode === 'per-label') {
        t.like(real.stats, { created: 1, failed: 0 });
        const created = [...emulator.store.all()].find((c) => c.email === 'ann@x.example');
        t.deepEqual(created?.external_ids, [{ external_id: '101', label: 'hubspot' }]);
      } else {
        t.like(real.stats, { created: 0, failed: 1 });
        const error = real.errors[0];
        if (mode === 'reject-plain' && lookup === 'search') {
          // A refusal that names no one, and a holder search could not see: the code says what it is (before: ROW_API_REJECTED), Pylon's words kept, no holder named.
          t.is(error?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
          t.regex(error?._error_message ?? '', /^External id 101 \(label "hubspot"\) is held by another contact: Pylon refused the create \(A contact with external id "101" already exists\) without naming that contact.*--lookup list/);
          t.notRegex(error?._error_message ?? '', new RegExp(zed.id));
        } else {
          t.is(error?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
          t.regex(error?._error_message ?? '', new RegExp(`held by contact ${zed.id} under label "zendesk"`));
        }
      }
      t.is(JSON.stringify([emulator.store.get(zed.id), emulator.store.get(zoe.id)]), holders, 'the holders are unchanged');

      // What the host did is remembered when the run knew the id was held: the next dry run predicts from it.
      const memory = join(dir, 'state', 'pylon-contacts', 'servers.json');
      const servers = (existsSync(memory) ? JSON.parse(readFileSync(memory, 'utf8')) : {}) as Record<string, Record<string, { reason: string }>>;
      const learnt = servers[`${new URL(emulator.url).host}/${DEFAULT_ME.id}`]?.external_id_under_other_label?.reason;
      const known = lookup === 'list' || mode === 'reject';
      if (!known) t.falsy(learnt);
      else t.regex(learnt ?? '', mode === 'per-label' ? /^took / : /^refused /);

      const bob = await run(file('bob.csv', 'Bob,bob@x.example,102,hubspot'), ['--dry-run']);
      if (lookup === 'search') t.like(bob.stats, { created: 1, failed: 0 });
      else if (mode === 'per-label') t.like(bob.stats, { created: 1, failed: 0 }, 'this host takes such ids: the dry run counts the create');
      else {
        t.like(bob.stats, { created: 0, failed: 1 });
        t.regex(bob.errors[0]?._error_message ?? '', new RegExp(`held by contact ${zoe.id} under label "zendesk".*refused such a write when it was last sent`));
        t.notRegex(bob.stderr, /unverified/);
      }
    });
  }
}

for (const lookup of LOOKUPS) {
  test(`--external-id-taken per-label, --lookup ${lookup}: a row whose own contact (found by its email) holds its id under another label is told so, and what to do`, async (t) => {
    const emulator = await startEmulator(t, { externalIdTaken: 'per-label' });
    const dir = tempDir(t);
    const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
    const import_ = async (name: string, column: string, label: string) => {
      const input = join(dir, `${name}.csv`);
      writeFileSync(input, `name,email,${column}\nDan,dan@x.example,555\n`);
      const errors = join(dir, `${name}.errors.csv`);
      const res = await runCli(['import', input, '--lookup', lookup, '--external-id-column', column, '--external-id-label', label, '--rate', FAST_RATE, '--errors', errors, '--json'], { env, cwd: dir });
      return { res, errors: existsSync(errors) ? readCsv(errors) : [] };
    };
    const first = await import_('hs', 'rid', 'hubspot');
    t.is(first.res.code, 0, first.res.stderr);
    const dan = [...emulator.store.all()].find((c) => c.email === 'dan@x.example')!;
    const before = JSON.stringify(emulator.store.get(dan.id));

    const second = await import_('zd', 'uid', 'zendesk');
    t.is(second.res.code, 3, second.res.stderr);
    const error = second.errors[0];
    t.is(error?._error_code, 'ROW_EXTERNAL_ID_TAKEN');
    t.is(
      error?._error_message,
      `Contact ${dan.id}, which this row's email finds, already holds external id 555 under label "hubspot"; Pylon keeps an external id once per contact, whatever its label, so it cannot hold 555 under "zendesk" too, and nothing was written. ` +
        `If "zendesk" and "hubspot" name one system, import with --external-id-label "hubspot"; otherwise update this contact from this row by its email alone (import the row without --external-id-column)`,
    );
    t.notRegex(error?._error_message ?? '', /another system's record/);
    t.is(JSON.stringify(emulator.store.get(dan.id)), before, 'the contact is unchanged');
  });
}

test('--external-id-taken reject-plain, --lookup search: an update whose external id another contact holds is ROW_EXTERNAL_ID_TAKEN; _contact_id is the row\'s own contact, never the holder', async (t) => {
  const emulator = await startEmulator(t, { externalIdTaken: 'reject-plain' });
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const zed = emulator.store.insert({ name: 'Zed', email: 'zed@x.example', external_ids: [{ external_id: '101', label: 'zendesk' }] });
  const zoe = emulator.store.insert({ name: 'Zoe', email: 'zoe@x.example', external_ids: [{ external_id: '102', label: 'zendesk' }] });
  const carl = emulator.store.insert({ name: 'Carl', email: 'carl@x.example' });
  const before = JSON.stringify([emulator.store.get(zed.id), emulator.store.get(zoe.id), emulator.store.get(carl.id)]);
  const input = join(dir, 'rows.csv');
  writeFileSync(input, 'name,email,external_id,external_id_label\nCarl Two,carl@x.example,101,hubspot\nAnn,ann@x.example,102,hubspot\n');
  const errors = join(dir, 'errors.csv');
  const results = join(dir, 'results.csv');
  const res = await runCli(['import', input, '--lookup', 'search', '--rate', FAST_RATE, '--errors', errors, '--results', results, '--json'], { env, cwd: dir });
  t.is(res.code, 3, res.stderr);
  t.deepEqual(readCsv(errors).map((e) => [e._line, e._error_code, e._error_field]), [['2', 'ROW_EXTERNAL_ID_TAKEN', 'external_id'], ['3', 'ROW_EXTERNAL_ID_TAKEN', 'external_id']]);
  const [update, create] = readCsv(errors);
  t.regex(update?._error_message ?? '', new RegExp(`^External id 101 \\(label "hubspot"\\) is held by another contact: Pylon refused the update of contact ${carl.id}, which this row's email finds,`));
  t.regex(create?._error_message ?? '', /Pylon refused the create/);
  // As for ROW_EXTERNAL_ID_TAKEN everywhere, _contact_id is empty (before, the update's row named its contact there as if the row had written it); never the holder.
  t.deepEqual(readCsv(results).map((r) => [r._line, r._action, r._contact_id]), [['2', 'failed', ''], ['3', 'failed', '']]);
  t.notRegex(JSON.stringify(readCsv(results)) + JSON.stringify(readCsv(errors)), new RegExp(`${zed.id}|${zoe.id}`));
  t.is(JSON.stringify([emulator.store.get(zed.id), emulator.store.get(zoe.id), emulator.store.get(carl.id)]), before, 'nothing was written');
  t.is([...emulator.store.all()].length, 3, 'no contact created');
});

import test from 'ava';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { exportExitCode } from '../../src/cli/commands/export.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_ME } from '../../src/emulator/index.js';
import { client, withEmulator } from '../helpers/with-emulator.js';
import { TOKEN, envFor, runCli, startEmulator } from '../helpers/cli.js';
import { createGateway } from './gateway.js';
import { exportFrom, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';

async function liveIds(file: string, table: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    const rows = (await connection.runAndReadAll(`SELECT id FROM "${table}" WHERE _deleted_at IS NULL ORDER BY id`)).getRowObjectsJS() as Array<{ id: string }>;
    return rows.map((r) => r.id);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const night = (dir: string, date: string, runId: string, gatewayUrl: string) => ({
  output: join(dir, 'lake/contacts/dt={date}/contacts.csv'),
  state: join(dir, 'contacts.state'),
  changes: join(dir, 'lake/changes/dt={date}.csv'),
  to: `duckdb:${join(dir, 'warehouse.duckdb')}`,
  baseUrl: gatewayUrl,
  runId,
  now: new Date(`${date}T02:15:00Z`),
});

test('three nights with --state, the second failed (Pylon unreachable): nothing moves that night, and the third night covers both nights’ changes; the table equals Pylon', async (t) => {
  await withEmulator({ seed: 91, seedRandom: 40 }, async (emulator) => {
    const gateway = await createGateway(emulator.url);
    t.teardown(() => gateway.close());
    const api = client(emulator);
    const dir = await tempDir();
    const statePath = join(dir, 'contacts.state');

    const first = await exportFrom(emulator, night(dir, '2026-12-01', 'n1', gateway.url));
    t.like(first, { complete: true, contactsRead: 40 });
    t.deepEqual(first.changes && { ...first.changes, path: '' }, { path: '', insert: 40, update: 0, delete: 0 }, 'the first night: every contact is new');
    const ids = storeContacts(emulator).map((c) => c.id);
    const stateAfterFirst = await readFile(statePath);

    // Changes made before the night that fails…
    await api.patch(`/contacts/${ids[1]}`, { name: 'Changed Before Night Two' });
    await api.delete(`/contacts/${ids[2]}`);
    gateway.down = true;
    const second = await exportFrom(emulator, night(dir, '2026-12-02', 'n2', gateway.url));
    t.false(second.complete);
    t.is(exportExitCode(second), 1);
    t.deepEqual(await readFile(statePath), stateAfterFirst, 'a failed night leaves the state as it was');
    t.false(await readdir(join(dir, 'lake/contacts/dt=2026-12-02')).then((names) => names.includes('contacts.csv'), () => false), 'and publishes no data file');
    t.false(await readdir(join(dir, 'lake/contacts')).then((names) => names.includes('dt=2026-12-02')), 'nor leaves the empty partition folder it made');
    t.false((await readdir(join(dir, 'lake/changes'))).includes('dt=2026-12-02.csv'), 'nor a change log');

    // …and before the night after it.
    gateway.down = false;
    await api.patch(`/contacts/${ids[3]}`, { name: 'Changed Before Night Three' });
    const added = (await api.post('/contacts', { name: 'New On Day Three', email: 'day3@state.example' })).body.data.id as string;
    const third = await exportFrom(emulator, night(dir, '2026-12-03', 'n3', gateway.url));
    t.like(third, { complete: true, contactsRead: 40 });
    t.like(third.delta, { since: statePath, sinceStartedAt: '2026-12-01T02:15:00.000Z', new: 1, changed: 2, unchanged: 37, deleted: 1 });
    const log = await readCsv(join(dir, 'lake/changes/dt=2026-12-03.csv'));
    t.deepEqual(
      log.map((r) => [r.op, r.id]).sort(),
      [['delete', ids[2]], ['insert', added], ['update', ids[1]], ['update', ids[3]]].sort(),
      'the change log holds the changes of both nights',
    );
    t.true(log.every((r) => r.run_id === 'n3'));
    const data = await readCsv(join(dir, 'lake/contacts/dt=2026-12-03/contacts.csv'));
    t.deepEqual(data.map((r) => r.id).sort(), [ids[1], ids[3], added].sort(), 'the delta file holds the new and changed contacts');
    t.deepEqual(await liveIds(join(dir, 'warehouse.duckdb'), 'contacts'), storeContacts(emulator).map((c) => c.id).sort(), 'the table holds exactly the contacts Pylon has');
    const manifest = await readManifest(join(dir, 'lake/contacts._meta/dt=2026-12-03/contacts.csv.manifest.json'));
    t.like(manifest.state, { path: '../../../contacts.state', entries: 40 });
    t.is(manifest.load?.deleted, 1);
    // The state's owner is asked of /me once: the manifest names that call, and its total is the sum of the calls it names.
    t.is(manifest.apiCalls.me, 1);
    t.is(manifest.apiCalls.total, manifest.apiCalls.list + manifest.apiCalls.search + manifest.apiCalls.customFields + manifest.apiCalls.me);

    // The state names its run, and the next night starts from this one.
    const header = (await readFile(statePath, 'utf8')).split('\n').slice(0, 2);
    t.is(header[0], 'pylon-contacts-state 3');
    t.like(JSON.parse(header[1]!), { host: new URL(gateway.url).host, organization: { id: DEFAULT_ME.id }, runId: 'n3', startedAt: '2026-12-03T02:15:00.000Z', columnsOption: null, filter: null, rowHash: 'xxh64' });
    const fourth = await exportFrom(emulator, night(dir, '2026-12-04', 'n4', gateway.url));
    t.like(fourth.delta, { new: 0, changed: 0, unchanged: 40, deleted: 0 });
  });
});

test('--state refuses a state that is not this run’s: another host, organisation or --columns, a corrupt or truncated file, a newer format; nothing is published and the file stays', async (t) => {
  await withEmulator({ seed: 92, seedRandom: 12 }, async (emulator) => {
    const other = await (await import('../../src/emulator/index.js')).createEmulator({ seed: 93, seedRandom: 5, me: { ...DEFAULT_ME, id: 'org-other', name: 'Other Org' } });
    const gateway = await createGateway(emulator.url);
    t.teardown(async () => {
      await gateway.close();
      await other.close();
    });
    const dir = await tempDir();
    const state = join(dir, 'c.state');
    const out = join(dir, 'c.csv');
    t.true((await exportFrom(emulator, { output: out, state, baseUrl: gateway.url })).complete);
    const good = await readFile(state, 'utf8');
    const files = await readdir(dir);
    const refuse = async (input: Parameters<typeof exportFrom>[1], message: RegExp, what: string) => {
      const error = await t.throwsAsync(exportFrom(emulator, { output: out, state, baseUrl: gateway.url, ...input }), { message }, what);
      t.true(error instanceof ConfigError, `${what}: a usage error (exit 2)`);
      t.deepEqual(await readdir(dir), files, `${what}: nothing published`);
    };

    await refuse({ baseUrl: emulator.url }, /belongs to another run: it holds contacts from 127\.0\.0\.1:\d+, this run reads 127\.0\.0\.1:\d+; run with the address that wrote it \(--base-url or PYLON_BASE_URL\), or, as both are the organisation Emulated Org \(reached another way: a proxy, another name for the host\), move the state file aside: the next run is then a full export/, 'another host: the way out is named');
    gateway.upstream = other.url;
    await refuse({}, new RegExp(`organisation ${DEFAULT_ME.name} \\(${DEFAULT_ME.id}\\), the token belongs to Other Org \\(org-other\\); use a token of ${DEFAULT_ME.name}, or give Other Org's contacts a --state file of their own$`), 'another organisation: the way out is named');
    gateway.upstream = emulator.url;
    await refuse({ columns: 'id,email' }, /written with every column, this run asks for --columns id,email/, 'another column set');

    await writeFile(state, good.replace(/\n[0-9a-f]{16} /, '\n0000000000000000 '));
    await refuse({}, /truncated or was changed since it was written/, 'an edited line');
    await writeFile(state, good.split('\n').slice(0, 5).join('\n') + '\n');
    await refuse({}, /truncated or was changed since it was written/, 'a truncated file');
    await writeFile(state, good.replace(/^\{.*$/m, '{not json'));
    await refuse({}, /corrupt header/, 'a corrupt header');
    await writeFile(state, good.replace('pylon-contacts-state 3', 'pylon-contacts-state 4'));
    await refuse({}, /newer version of pylon-contacts \(state format 4/, 'a newer format');
    t.is(await readFile(state, 'utf8'), good.replace('pylon-contacts-state 3', 'pylon-contacts-state 4'), 'the state file is left as it was');
    await writeFile(state, '');
    await refuse({}, /is empty \(a run replaces it whole, so something else emptied it\); delete it to start again with a full export/, 'an empty file');
    await writeFile(state, good.replace('"rowHash":"xxh64"', '"rowHash":"blake9"'));
    await refuse({}, /names a record hash this version does not know \("blake9"\)/, 'an unknown record hash');
  });
});

test('CLI: --state with --since, or with a template, is a usage error (exit 2) before any request; a refused state file exits 2 naming it', async (t) => {
  const emulator = await startEmulator(t, { seedRandom: 5 });
  const dir = await tempDir();
  const both = await runCli(['export', join(dir, 'c.csv'), '--state', join(dir, 's'), '--since', join(dir, 'm.json')], { env: envFor(emulator) });
  t.is(both.code, 2);
  t.regex(both.stderr, /--state.*replaces --since/);
  const templated = await runCli(['export', join(dir, 'c.csv'), '--state', join(dir, '{date}.state')], { env: envFor(emulator) });
  t.is(templated.code, 2);
  t.regex(templated.stderr, /one fixed path/);
  await writeFile(join(dir, 'bad.state'), 'pylon-contacts-state 9\n');
  const bad = await runCli(['export', join(dir, 'c.csv'), '--state', join(dir, 'bad.state')], { env: envFor(emulator) });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /bad\.state was written by a newer version/);
  t.notRegex(bad.stderr + bad.stdout, new RegExp(TOKEN), 'no token in the output');
  t.notRegex(bad.stderr, /\n\s+at /, 'no stack trace');
  t.false((await readdir(dir)).includes('c.csv'));
});

// Serial: its last check looks for this process's state scratch folders, which the other tests of this file (also loading, in the same
// worker process) make while they run; ava runs serial tests before the concurrent ones.
test.serial('three loading nights without a state file: the table keeps the state, so the night after a failed one still covers both nights’ changes', async (t) => {
  await withEmulator({ seed: 93, seedRandom: 30 }, async (emulator) => {
    const gateway = await createGateway(emulator.url);
    t.teardown(() => gateway.close());
    const api = client(emulator);
    const dir = await tempDir();
    // The cron line of the docs with a load: no --state, no --since, the same every night.
    const cron = (date: string, runId: string) => {
      const { state: _none, ...options } = night(dir, date, runId, gateway.url);
      return options;
    };
    const first = await exportFrom(emulator, cron('2026-12-01', 'n1'));
    t.like(first, { complete: true, contactsRead: 30 });
    t.is(first.delta, null, 'the first load finds no state: every contact is new');
    t.deepEqual(first.changes && { ...first.changes, path: '' }, { path: '', insert: 30, update: 0, delete: 0 });
    const ids = storeContacts(emulator).map((c) => c.id);

    await api.patch(`/contacts/${ids[1]}`, { name: 'Changed Before Night Two' });
    await api.delete(`/contacts/${ids[2]}`);
    gateway.down = true;
    const second = await exportFrom(emulator, cron('2026-12-02', 'n2'));
    t.false(second.complete);

    gateway.down = false;
    await api.patch(`/contacts/${ids[3]}`, { name: 'Changed Before Night Three' });
    const added = (await api.post('/contacts', { name: 'New On Day Three', email: 'day3@table-state.example' })).body.data.id as string;
    const third = await exportFrom(emulator, cron('2026-12-03', 'n3'));
    t.like(third, { complete: true, contactsRead: 30 });
    t.regex(third.delta?.since ?? '', /^the state kept in duckdb:.*warehouse\.duckdb.* \(table _pylon_state\)$/);
    t.like(third.delta, { sinceStartedAt: '2026-12-01T02:15:00.000Z', new: 1, changed: 2, deleted: 1 });
    const log = await readCsv(join(dir, 'lake/changes/dt=2026-12-03.csv'));
    t.deepEqual(log.map((r) => [r.op, r.id]).sort(), [['delete', ids[2]], ['insert', added], ['update', ids[1]], ['update', ids[3]]].sort(), 'the change log holds the changes of both nights');
    t.deepEqual(await liveIds(join(dir, 'warehouse.duckdb'), 'contacts'), storeContacts(emulator).map((c) => c.id).sort(), 'the table holds exactly the contacts Pylon has');
    t.deepEqual((await readdir(tmpdir())).filter((name) => name.startsWith(`pylon-contacts-state-${process.pid}-`)), [], 'the staged state (ids and hashes) is removed when each run ends');
  });
});

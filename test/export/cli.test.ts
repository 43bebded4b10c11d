import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Emulator } from '../../src/emulator/index.js';
import { BIN } from '../helpers/cli.js';
import { withEmulator } from '../helpers/with-emulator.js';
import { createFaultProxy } from './fault-proxy.js';
import { filesIn, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'tok-cli-export-SECRET-4f9a';
const FAST = 'list=100000,search=100000,customFields=100000,create=100000,patch=100000';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built command (`dist/bin.js`, as the end-to-end tests run it), in the repository's folder. */
function start(args: string[], baseUrl: string) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, PYLON_API_TOKEN: TOKEN, PYLON_BASE_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const cli = (args: string[], baseUrl: string) => start(args, baseUrl).done;

const options = { seed: 31, seedRandom: 40, tokens: [TOKEN] };

async function assertNoToken(t: { false(v: boolean, m?: string): void }, dir: string, run: Run) {
  for (const file of await filesIn(dir)) t.false((await readFile(join(dir, file))).includes(TOKEN), `${file} holds no token`);
  t.false(run.stdout.includes(TOKEN), 'stdout holds no token');
  t.false(run.stderr.includes(TOKEN), 'stderr holds no token');
}

function writes(emulator: Emulator): number {
  const r = emulator.stats().requests;
  return (r.create ?? 0) + (r.patch ?? 0) + (r.delete ?? 0);
}

test('export, then import the file back: zero writes; no token anywhere', async (t) => {
  await withEmulator(options, async (emulator) => {
    emulator.store.insert({ name: 'Multi Value', email: 'mv@acme.example', emails: ['mv@acme.example', 'mv2@acme.example'], phone_numbers: ['15550001', '15550002'], custom_fields: { interests: ['api', 'mobile'], vip: 'false', mrr: '10.50' } });
    const dir = await tempDir();
    const out = join(dir, 'contacts.csv');
    const exported = await cli(['export', out, '--rate', FAST, '--json'], emulator.url);
    t.is(exported.code, 0, exported.stderr);
    t.regex(exported.stderr, /^Export to .*contacts\.csv: complete after \d+(?:m\d+s|h\d+m|s), 41 rows written from 41 contacts in 1 page\n/m);
    const summary = JSON.parse(exported.stdout) as { rows: number; complete: boolean; sha256: string };
    t.like(summary, { rows: 41, complete: true });
    t.is((await readManifest(`${out}.manifest.json`)).sha256, summary.sha256);

    emulator.resetStats();
    const imported = await cli(['import', out, '--rate', FAST, '--errors', join(dir, 'reimport.errors.csv')], emulator.url);
    t.is(imported.code, 0, imported.stderr);
    t.regex(imported.stderr, /created 0, updated 0, unchanged 41/);
    t.is(writes(emulator), 0, 'the import sent no create, patch or delete');
    await assertNoToken(t, dir, exported);
    await assertNoToken(t, dir, imported);
  });
});

test('import → export → import: the second import makes zero writes', async (t) => {
  await withEmulator({ seed: 32, tokens: [TOKEN] }, async (emulator) => {
    const dir = await tempDir();
    const input = join(dir, 'input.csv');
    await writeFile(
      input,
      [
        'name,email,account_id,portal_role,phone_numbers,custom.tier,custom.interests,custom.seats,custom.mrr,custom.vip,custom.renewal_date,custom.last_seen_at,custom.linkedin,custom.owner,custom.notes',
        'Ada Lovelace,ada@acme.example,6f1c2a8e-3b4d-4e5f-9a10-0000000000a1,admin,15550001;15550002,Gold,API;Billing,42,1234.5,true,2027-01-31,2026-11-02T08:30:00Z,https://www.linkedin.com/in/ada,user-1,"Notes, with a comma"',
        'Alan Turing,alan@globex.example,,member,,silver,security,,,false,,,,,',
        'Plain Person,plain@example.com,,,,,,,,,,,,,',
      ].join('\n') + '\n',
    );
    const first = await cli(['import', input, '--rate', FAST], emulator.url);
    t.is(first.code, 0, first.stderr);
    t.is(emulator.store.size, 3);
    const out = join(dir, 'export.csv');
    t.is((await cli(['export', out, '--rate', FAST], emulator.url)).code, 0);
    emulator.resetStats();
    const again = await cli(['import', out, '--rate', FAST], emulator.url);
    t.is(again.code, 0, again.stderr);
    t.regex(again.stderr, /created 0, updated 0, unchanged 3/);
    t.is(writes(emulator), 0);
  });
});

test('stdout: CSV on stdout, the summary on stderr', async (t) => {
  await withEmulator(options, async (emulator) => {
    const run = await cli(['export', '--columns', 'id,email', '--rate', FAST], emulator.url);
    t.is(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    t.is(lines[0], 'id,email');
    t.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), storeContacts(emulator).map((c) => c.id));
    t.regex(run.stderr, /^Export to stdout: complete/m);
  });
});

test('a page that keeps failing: exit 1, no final file, report and manifest name the cursor and status', async (t) => {
  await withEmulator(options, async (emulator) => {
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 3, fault: 'status=403' });
    try {
      const dir = await tempDir();
      const out = join(dir, 'c.csv');
      const run = await cli(['export', out, '--page-size', '10', '--rate', FAST], proxy.url);
      t.is(run.code, 1, run.stderr);
      t.deepEqual(await filesIn(dir), ['c.csv.errors.csv', 'c.csv.manifest.json']);
      const manifest = await readManifest(`${out}.manifest.json`);
      t.like(manifest, { complete: false, status: 'failed', rows: 20, pages: 2 });
      t.like(manifest.stoppedAt, { status: 403, code: 'PYLON_FORBIDDEN', pagesRead: 2 });
      const [entry] = await readCsv(`${out}.errors.csv`);
      t.like(entry, { kind: 'page', page: '3', cursor: manifest.stoppedAt!.cursor, http_status: '403', request_id: manifest.stoppedAt!.requestId! });
      t.regex(run.stderr, /Export to .*c\.csv: FAILED/);
      t.regex(run.stderr, new RegExp(`stopped at page 3 \\(cursor ${manifest.stoppedAt!.cursor}\\): GET /contacts failed with 403`));
      t.regex(run.stderr, /FAILED after \d+(?:m\d+s|h\d+m|s), 20 contacts read in 2 pages; 20 rows staged and discarded, none published\n/);
      t.regex(run.stderr, /nothing was published: the previous file and any loaded table are as they were; this run wrote only its error report and the manifest of this failed run/);
      await assertNoToken(t, dir, run);
    } finally {
      await proxy.close();
    }
  });
});

test('usage errors exit 2 and write nothing', async (t) => {
  await withEmulator(options, async (emulator) => {
    const dir = await tempDir();
    const unknown = await cli(['export', join(dir, 'c.csv'), '--columns', 'id,emial', '--rate', FAST], emulator.url);
    t.is(unknown.code, 2);
    t.regex(unknown.stderr, /unknown column "emial" \(did you mean email\?\); valid columns are id, name, email/);
    const json = await cli(['export', '-', '--json'], emulator.url);
    t.is(json.code, 2);
    t.regex(json.stderr, /Invalid option `--json`/);
    const format = await cli(['export', join(dir, 'c.csv'), '--format', 'xml'], emulator.url);
    t.is(format.code, 2);
    t.deepEqual(await filesIn(dir), []);
  });
});

test('Ctrl-C: exit 130, nothing published, the manifest says interrupted', async (t) => {
  await withEmulator(options, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    // One contact per page at 120 pages a minute: about 20 s if left alone.
    const { child, done } = start(['export', out, '--page-size', '1', '--rate', 'list=120,customFields=1000'], emulator.url);
    // Interrupt once the walk is under way (the test's timeout bounds the wait, not a count of sleeps).
    while ((emulator.stats().requests.list ?? 0) < 2 && child.exitCode === null) await sleep(20);
    child.kill('SIGINT');
    const run = await done;
    t.is(run.code, 130, run.stderr);
    t.false((await filesIn(dir)).includes('c.csv'));
    t.false((await filesIn(dir)).some((f) => f.endsWith('.partial')));
    t.like(await readManifest(`${out}.manifest.json`), { complete: false, status: 'interrupted' });
    t.regex(run.stderr, /interrupted/);
  });
});

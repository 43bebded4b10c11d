import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/index.js';
import { withEmulator } from '../helpers/with-emulator.js';
import { createFaultProxy } from './fault-proxy.js';
import { FULL_CONTACT, exportFrom, expectedRow, filesIn, readCsv, readManifest, storeContacts, tempDir } from './helpers.js';

const SLUGS = DEFAULT_CUSTOM_FIELDS.map((f) => f.slug);

test('round trip: the CSV holds exactly the store, every custom-field type, in the documented column order', async (t) => {
  await withEmulator({ seed: 7, seedRandom: 60 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    emulator.store.insert({ name: 'Bare Minimum' });
    const dir = await tempDir();
    const out = join(dir, 'contacts.csv');
    const stats = await exportFrom(emulator, { output: out, pageSize: 7 });

    const rows = await readCsv(out);
    const contacts = storeContacts(emulator);
    t.is(contacts.length, 62);
    t.deepEqual(rows, contacts.map((c) => expectedRow(c, SLUGS)));
    const header = (await readFile(out, 'utf8')).split('\n')[0];
    t.is(header, ['id', 'name', 'email', 'emails', 'account_id', 'avatar_url', 'portal_role', 'portal_role_id', 'phone_numbers', 'primary_phone_number', ...SLUGS.map((s) => `custom.${s}`)].join(','));
    const grace = rows.find((r) => r.email === 'grace@acme.example')!;
    t.like(grace, {
      name: 'Grace "Amazing" Hopper, PhD',
      emails: 'grace@acme.example;g.hopper@navy.example',
      phone_numbers: '15551230001;15551230002',
      'custom.interests': 'api;security',
      'custom.vip': 'true',
      'custom.notes': 'Line one\nline two, with "quotes"; and a semicolon',
      'custom.contact.salesforce.Contact_ID_for_Pylon__c': '003ABCDEF',
    });

    t.like(stats, { complete: true, rows: 62, contactsRead: 62, pages: 9, recordErrors: 0, errorsPath: null, stoppedAt: null });
    t.is(stats.calls.list, 9);
    t.is(stats.calls.customFields, 1);
    const bytes = await readFile(out);
    t.is(stats.sha256, createHash('sha256').update(bytes).digest('hex'));
    t.is(stats.bytes, bytes.length);

    const manifest = await readManifest(`${out}.manifest.json`);
    t.like(manifest, { kind: 'pylon-contacts-export', version: 1, complete: true, status: 'complete', file: 'contacts.csv', format: 'csv', rows: 62, pages: 9, sha256: stats.sha256, bytes: bytes.length, stoppedAt: null, errors: null, delta: null });
    t.deepEqual(manifest.apiCalls, { total: 10, list: 9, search: 0, customFields: 1, me: 0, retries: 0, rateLimited: 0 });
    t.deepEqual(manifest.columns, stats.columns);
    t.true(Date.parse(manifest.startedAt) <= Date.parse(manifest.endedAt));
    t.like(manifest.state, { path: 'contacts.csv.state', entries: 62 });
    t.deepEqual(await filesIn(dir), ['contacts.csv', 'contacts.csv.manifest.json', 'contacts.csv.state']);
  });
});

for (const lastPageCursor of ['empty', 'null', 'absent'] as const) {
  test(`last page cursor ${lastPageCursor}: every contact once, complete`, async (t) => {
    await withEmulator({ seed: 3, seedRandom: 25, lastPageCursor }, async (emulator) => {
      const dir = await tempDir();
      const stats = await exportFrom(emulator, { output: join(dir, 'c.csv'), pageSize: 10 });
      const ids = (await readCsv(join(dir, 'c.csv'))).map((r) => r.id);
      t.deepEqual(ids, storeContacts(emulator).map((c) => c.id));
      t.like(stats, { complete: true, rows: 25, pages: 3 });
    });
  });
}

test('zero contacts: header only, manifest rows 0', async (t) => {
  await withEmulator({ seed: 1 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'empty.csv');
    const stats = await exportFrom(emulator, { output: out });
    t.is(await readFile(out, 'utf8'), ['id', 'name', 'email', 'emails', 'account_id', 'avatar_url', 'portal_role', 'portal_role_id', 'phone_numbers', 'primary_phone_number', ...SLUGS.map((s) => `custom.${s}`)].join(',') + '\n');
    t.like(stats, { complete: true, rows: 0, pages: 1 });
    t.like(await readManifest(`${out}.manifest.json`), { complete: true, rows: 0, pages: 1 });
  });
});

test('--columns selects and orders the columns', async (t) => {
  await withEmulator({ seed: 2 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    await exportFrom(emulator, { output: out, columns: 'custom.tier,email,id' });
    const id = storeContacts(emulator)[0]!.id;
    t.is(await readFile(out, 'utf8'), `custom.tier,email,id\ngold,grace@acme.example,${id}\n`);
  });
});

test('--columns with an unknown column is a usage error and writes nothing', async (t) => {
  await withEmulator({ seed: 2 }, async (emulator) => {
    const dir = await tempDir();
    const error = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'c.csv'), columns: 'id,custom.nope' }));
    t.is(error?.name, 'ConfigError');
    t.regex(error!.message, /unknown column "custom\.nope"(?: \(did you mean [^)]*\))?; valid columns are id, name, .*custom\.tier/);
    t.deepEqual(await filesIn(dir), []);
  });
});

test('a target in a missing directory is a usage error, found before any request', async (t) => {
  await withEmulator({ seed: 2 }, async (emulator) => {
    const dir = await tempDir();
    const missing = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'nope', 'c.csv') }));
    t.like(missing, { name: 'ConfigError', code: 'OUTPUT_UNWRITABLE', option: '<file>' });
    t.regex(missing!.message, /^Cannot write .*nope\/c\.csv \(the output file\): its folder does not exist\. Nothing was sent to Pylon; create the folder \(mkdir -p .*nope\), or name a file in a folder that exists\.$/);
    const manifest = await t.throwsAsync(exportFrom(emulator, { output: join(dir, 'c.csv'), manifest: join(dir, 'nope', 'm.json') }));
    t.like(manifest, { code: 'OUTPUT_UNWRITABLE', option: '--manifest' });
    t.regex(manifest!.message, /^Cannot write .*nope\/m\.json \(--manifest\): its folder does not exist/);
    t.is(emulator.stats().requests.customFields, 0);
    t.deepEqual(await filesIn(dir), []);
  });
});

test('ndjson: one object per line with the same keys; lists stay arrays', async (t) => {
  await withEmulator({ seed: 4, seedRandom: 5 }, async (emulator) => {
    emulator.store.insert(FULL_CONTACT);
    const dir = await tempDir();
    const out = join(dir, 'c.ndjson');
    const stats = await exportFrom(emulator, { output: out, pageSize: 4 });
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.is(lines.length, 6);
    t.is(stats.format, 'ndjson');
    for (const line of lines) t.deepEqual(Object.keys(line), stats.columns);
    const grace = lines.find((l) => l.email === 'grace@acme.example')!;
    t.deepEqual(grace.emails, ['grace@acme.example', 'g.hopper@navy.example']);
    t.deepEqual(grace['custom.interests'], ['api', 'security']);
    t.is(grace['custom.seats'], '42');
    t.is(grace.portal_role_id, null);
  });
});

test('gzip: a .gz name compresses; gunzipped it equals the plain export; sha256 is of the gzip bytes', async (t) => {
  await withEmulator({ seed: 5, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    await exportFrom(emulator, { output: join(dir, 'plain.csv') });
    const stats = await exportFrom(emulator, { output: join(dir, 'packed.csv.gz') });
    const packed = await readFile(join(dir, 'packed.csv.gz'));
    t.is(packed[0], 0x1f);
    t.is(packed[1], 0x8b);
    t.deepEqual(gunzipSync(packed), await readFile(join(dir, 'plain.csv')));
    t.is(stats.sha256, createHash('sha256').update(packed).digest('hex'));
    t.true(stats.gzip);
  });
});

test('--bom starts the CSV with a UTF-8 BOM; --excel-safe escapes formulas', async (t) => {
  await withEmulator({ seed: 6 }, async (emulator) => {
    emulator.store.insert({ name: '=SUM(A1:A9)', email: 'formula@x.example', custom_fields: { notes: '@cmd' } });
    const dir = await tempDir();
    const out = join(dir, 'excel.csv');
    await exportFrom(emulator, { output: out, bom: true, excelSafe: true, columns: 'name,email,custom.notes' });
    const bytes = await readFile(out);
    t.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    t.deepEqual(await readCsv(out, true), [{ name: "'=SUM(A1:A9)", email: 'formula@x.example', 'custom.notes': "'@cmd" }]);
    await exportFrom(emulator, { output: join(dir, 'raw.csv'), columns: 'name' });
    t.is(await readFile(join(dir, 'raw.csv'), 'utf8'), 'name\n=SUM(A1:A9)\n', 'without the flags the value is written as stored');
  });
});

test('--filter exports a subset through POST /contacts/search', async (t) => {
  await withEmulator({ seed: 8, seedRandom: 40 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'acme.csv');
    const stats = await exportFrom(emulator, { output: out, filter: 'email~@acme.example', pageSize: 3 });
    const expected = storeContacts(emulator).filter((c) => (c.emails ?? []).some((e) => e.includes('@acme.example')));
    t.true(expected.length > 3, 'the seed has several acme contacts');
    t.deepEqual((await readCsv(out)).map((r) => r.id).sort(), expected.map((c) => c.id).sort());
    // Besides the pages: one list page and one search, the probe of whether search matches emails whatever their case.
    t.is(stats.calls.list, 1);
    t.is(stats.calls.search, stats.pages + 1);
    t.deepEqual((await readManifest(`${out}.manifest.json`)).filter, { field: 'email', operator: 'string_contains', value: '@acme.example' });
  });
});

test('faults mid-export that recover (random 5xx and dropped connections): exact rows, no duplicates', async (t) => {
  await withEmulator({ seed: 11, seedRandom: 300, faults: { errorRate: 0.25, dropRate: 0.1 } }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    const stats = await exportFrom(emulator, { output: out, pageSize: 20 });
    t.true(stats.complete);
    t.true(stats.retries > 0, `the faults were hit (${stats.retries} retries)`);
    const ids = (await readCsv(out)).map((r) => r.id);
    t.is(ids.length, 300);
    t.is(new Set(ids).size, 300);
    t.deepEqual(ids, storeContacts(emulator).map((c) => c.id));
    t.is((await readManifest(`${out}.manifest.json`)).apiCalls.retries, stats.retries);
  });
});

test('429s with Retry-After are waited out: complete, exact rows, counted', async (t) => {
  await withEmulator({ seed: 12, seedRandom: 50 }, async (emulator) => {
    // Page requests 2, 3 and 5 get a 429 asking to wait a second; their retries pass.
    const proxy = await createFaultProxy(emulator.url, { failPages: [2, 3, 5], fault: 'retry-after=1' });
    try {
      const dir = await tempDir();
      const out = join(dir, 'c.csv');
      const stats = await exportFrom(emulator, { output: out, pageSize: 10, baseUrl: proxy.url });
      t.true(stats.complete);
      t.like(stats, { rateLimited: 3, retries: 3, pages: 5 });
      t.is(proxy.pageRequests, 8);
      const ids = (await readCsv(out)).map((r) => r.id);
      t.deepEqual(ids, storeContacts(emulator).map((c) => c.id));
      t.like((await readManifest(`${out}.manifest.json`)).apiCalls, { list: 8, retries: 3, rateLimited: 3 });
    } finally {
      await proxy.close();
    }
  });
});

test('a fault that does not recover: no final file, old file untouched, temp removed, report and manifest say where it stopped', async (t) => {
  await withEmulator({ seed: 13, seedRandom: 50 }, async (emulator) => {
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 3, fault: 'status=503' });
    try {
      const dir = await tempDir();
      const out = join(dir, 'c.csv');
      await writeFile(out, 'yesterday\n');
      const stats = await exportFrom(emulator, { output: out, pageSize: 10, baseUrl: proxy.url });

      t.false(stats.complete);
      t.false(stats.interrupted);
      t.is(await readFile(out, 'utf8'), 'yesterday\n', 'the previous file is untouched');
      t.deepEqual(await filesIn(dir), ['c.csv', 'c.csv.errors.csv', 'c.csv.manifest.json'], 'no partial file, no state');
      t.is(proxy.pageRequests, 2 + 4, 'two good pages, then the third page tried 1 + 3 times');
      const cursor = stats.stoppedAt!.cursor;
      t.true(cursor.length > 0);
      t.like(stats.stoppedAt, { pagesRead: 2, code: 'PYLON_HTTP', status: 503 });
      t.regex(stats.stoppedAt!.requestId ?? '', /\S/);
      t.is(stats.retries, 3);

      const report = await readCsv(join(dir, 'c.csv.errors.csv'));
      t.is(report.length, 1);
      t.like(report[0], { kind: 'page', cursor, page: '3', http_status: '503', request_id: stats.stoppedAt!.requestId!, code: 'PYLON_HTTP' });
      t.regex(report[0]!.message, /GET \/contacts failed with 503/);

      const manifest = await readManifest(join(dir, 'c.csv.manifest.json'));
      t.like(manifest, { complete: false, status: 'failed', rows: 20, pages: 2, sha256: null, bytes: null, state: null, errors: 'c.csv.errors.csv' });
      t.deepEqual(manifest.stoppedAt, stats.stoppedAt);
    } finally {
      await proxy.close();
    }
  });
});

test('a failure on the first call (custom fields) is reported too', async (t) => {
  await withEmulator({ seed: 14, tokens: ['right-token'] }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    const stats = await exportFrom({ url: emulator.url, token: 'wrong-token-value' }, { output: out });
    t.false(stats.complete);
    t.like(stats.stoppedAt, { code: 'PYLON_AUTH', status: 401, pagesRead: 0 });
    const report = await readCsv(`${out}.errors.csv`);
    t.like(report[0], { kind: 'custom_fields', http_status: '401', code: 'PYLON_AUTH' });
    for (const file of await filesIn(dir)) t.false((await readFile(join(dir, file), 'utf8')).includes('wrong-token-value'), `${file} holds no token`);
  });
});

test('a failure of GET /me (read first for --state) is reported as kind me, not custom_fields', async (t) => {
  await withEmulator({ seed: 14, tokens: ['right-token'] }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    const stats = await exportFrom({ url: emulator.url, token: 'wrong-token-value' }, { output: out, state: join(dir, 'c.state') });
    t.false(stats.complete);
    t.like(stats.stoppedAt, { code: 'PYLON_AUTH', status: 401, pagesRead: 0 });
    const report = await readCsv(`${out}.errors.csv`);
    t.like(report[0], { kind: 'me', http_status: '401', code: 'PYLON_AUTH' });
    t.regex(report[0]!.message, /GET \/me/);
  });
});

test('interrupted (abort signal): stops between pages, nothing published, manifest says interrupted', async (t) => {
  await withEmulator({ seed: 15, seedRandom: 50 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    const controller = new AbortController();
    const stats = await exportFrom(emulator, { output: out, pageSize: 10 }, {
      signal: controller.signal,
      onProgress: (s) => {
        if (s.pages === 2) controller.abort(new Error('interrupted by SIGINT'));
      },
    });
    t.like(stats, { complete: false, interrupted: true });
    t.like(stats.stoppedAt, { code: 'RUN_ABORTED', pagesRead: 2 });
    t.deepEqual(await filesIn(dir), ['c.csv.errors.csv', 'c.csv.manifest.json']);
    t.like(await readManifest(`${out}.manifest.json`), { complete: false, status: 'interrupted' });
    t.like((await readCsv(`${out}.errors.csv`))[0], { kind: 'interrupted', page: '3' });
  });
});

test('a clean run removes the error report an earlier failed run left at the same path', async (t) => {
  await withEmulator({ seed: 16, seedRandom: 5 }, async (emulator) => {
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 1, fault: 'status=400' });
    try {
      const dir = await tempDir();
      const out = join(dir, 'c.csv');
      t.false((await exportFrom(emulator, { output: out, baseUrl: proxy.url })).complete);
      t.true((await filesIn(dir)).includes('c.csv.errors.csv'));
      t.true((await exportFrom(emulator, { output: out })).complete);
      t.deepEqual(await filesIn(dir), ['c.csv', 'c.csv.manifest.json', 'c.csv.state']);
    } finally {
      await proxy.close();
    }
  });
});

test('stdout output: the data goes to the given stream, no manifest unless asked', async (t) => {
  await withEmulator({ seed: 17, seedRandom: 3 }, async (emulator) => {
    const chunks: Buffer[] = [];
    const { Writable } = await import('node:stream');
    const stdout = new Writable({
      write(chunk, _e, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });
    const stats = await exportFrom(emulator, { output: '-', columns: 'id' }, { stdout });
    t.true(stats.complete);
    t.is(stats.manifestPath, null);
    const rows = parse(Buffer.concat(chunks).toString(), { columns: true, bom: true }) as Array<{ id: string }>;
    t.deepEqual(rows.map((r) => r.id), storeContacts(emulator).map((c) => c.id));
  });
});

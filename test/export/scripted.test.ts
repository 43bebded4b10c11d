/**
 * Answers the emulator never gives, from a scripted HTTP server: records the
 * export cannot write, and pagination that would loop.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createScriptedServer, ok, page } from '../helpers/scripted-server.js';
import { exportFrom, filesIn, readCsv, readManifest, tempDir } from './helpers.js';

const TOKEN = 'scripted-token-1234';
const noFields = ok([], { pagination: { cursor: '', has_next_page: false } });

test('records without an id are reported with their page and skipped; the export completes', async (t) => {
  const server = await createScriptedServer();
  try {
    server.enqueue(noFields, page([{ id: 'a', name: 'A' }, { name: 'no id' }, 'not an object'], 'c1', true), page([{ id: 'b', name: 'B' }], '', false));
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    const stats = await exportFrom({ url: server.url, token: TOKEN }, { output: out, columns: 'id,name' });
    t.like(stats, { complete: true, rows: 2, contactsRead: 4, recordErrors: 2, errorsPath: `${out}.errors.csv` });
    t.is(await readFile(out, 'utf8'), 'id,name\na,A\nb,B\n');
    const report = await readCsv(`${out}.errors.csv`);
    t.deepEqual(
      report.map((r) => [r.kind, r.id, r.page, r.cursor, r.code, r.message]),
      [
        ['record', '', '1', '', 'PYLON_BAD_RESPONSE', 'Not exported: the record has no id'],
        ['record', '', '1', '', 'PYLON_BAD_RESPONSE', 'Not exported: the record is not an object'],
      ],
    );
    t.like(await readManifest(`${out}.manifest.json`), { complete: true, recordErrors: 2, errors: 'c.csv.errors.csv' });
    t.is(server.requests[1]!.query.limit, '999');
  } finally {
    await server.close();
  }
});

test('has_next_page without a cursor: PYLON_PAGINATION, nothing published', async (t) => {
  const server = await createScriptedServer();
  try {
    server.enqueue(noFields, page([{ id: 'a' }], 'c1', true), page([{ id: 'b' }], null, true));
    const dir = await tempDir();
    const stats = await exportFrom({ url: server.url, token: TOKEN }, { output: join(dir, 'c.csv') });
    t.false(stats.complete);
    t.like(stats.stoppedAt, { code: 'PYLON_PAGINATION', cursor: 'c1', pagesRead: 2 });
    t.deepEqual(await filesIn(dir), ['c.csv.errors.csv', 'c.csv.manifest.json']);
    t.like((await readCsv(join(dir, 'c.csv.errors.csv')))[0], { kind: 'pagination', code: 'PYLON_PAGINATION', page: '2' });
  } finally {
    await server.close();
  }
});

test('a server that hands back an earlier cursor is stopped, not followed forever', async (t) => {
  const server = await createScriptedServer();
  try {
    server.enqueue(noFields, page([{ id: 'a' }], 'x', true), page([{ id: 'b' }], 'y', true));
    server.fallback = () => page([{ id: 'c' }], 'x', true);
    const dir = await tempDir();
    const stats = await exportFrom({ url: server.url, token: TOKEN }, { output: join(dir, 'c.csv') });
    t.false(stats.complete);
    t.like(stats.stoppedAt, { code: 'PYLON_PAGINATION', pagesRead: 3 });
    t.regex(stats.stoppedAt!.message, /cursor already followed/);
    t.is(server.requests.length, 4, 'custom fields + 3 pages, then it stopped');
  } finally {
    await server.close();
  }
});

/**
 * JSON and NDJSON input through the built CLI against the emulator: text that is not valid UTF-8
 * never reaches Pylon (the record fails with ROW_ENCODING, the others import), `--encoding` decodes
 * as asked, and the results file names the email of rows the reader failed or a map's filter skipped.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const importArgs = (file: string, ...args: string[]) => ['import', file, '--json', '-q', '--rate', FAST_RATE, ...args];

/** `_line`, `_action`, `email` and `_message` of each line of a results file, in line order (rows finish in any order). */
function resultsOf(path: string): Array<{ line: string; action: string; email: string; message: string }> {
  const rows = parse(readFileSync(path), { columns: true, bom: true }) as Array<Record<string, string>>;
  return rows.map((r) => ({ line: r._line!, action: r._action!, email: r.email!, message: r._message! })).sort((a, b) => Number(a.line) - Number(b.line));
}

test('NDJSON with a Latin-1 byte: that line fails with ROW_ENCODING and its email, the others import (a literal U+FFFD as written), and the report imports as it is', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'users.ndjson');
  writeFileSync(file, Buffer.concat([
    Buffer.from('{"name":"Renée Utf","email":"renee@enc.example"}\n{"name":"Jos'),
    Buffer.from([0xe9]),
    Buffer.from(' Latin","email":"jose@enc.example"}\n{"name":"F \uFFFD Utf","email":"fffd@enc.example"}\n'),
  ]));
  const results = join(dir, 'results.csv');
  const first = await runCli(importArgs(file, '--results', results), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 3, created: 2, failed: 1 });
  t.is(emulator.store.size, 2);
  t.is(emulator.store.findByEmail('renee@enc.example')?.name, 'Renée Utf');
  t.is(emulator.store.findByEmail('fffd@enc.example')?.name, 'F \uFFFD Utf');
  t.is(emulator.store.findByEmail('jose@enc.example'), undefined, 'nothing garbled reaches Pylon');
  t.like(resultsOf(results)[1], { line: '2', action: 'failed', email: 'jose@enc.example' });
  t.regex(resultsOf(results)[1]!.message, /^ROW_ENCODING: Line 2 holds bytes that are not valid UTF-8 .*name "José Latin"; check that value/);

  const reportPath = join(dir, 'users.errors.csv');
  const report = readFileSync(reportPath);
  t.false(report.includes(Buffer.from('\uFFFD')), 'no byte is replaced by U+FFFD');
  t.regex(report.toString('utf8'), /^José Latin,jose@enc\.example,2,ROW_ENCODING,/m);
  const again = await runCli(importArgs(reportPath), { env: envFor(emulator) });
  t.is(again.code, 0, again.stderr);
  t.like(statsOf(again), { total: 1, created: 1, failed: 0 });
  t.is(emulator.store.findByEmail('jose@enc.example')?.name, 'José Latin');
});

test('a JSON array with a bad byte: that record fails, the others import; --encoding windows-1252 reads a Latin-1 file as asked', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const mixed = join(dir, 'mixed.json');
  writeFileSync(mixed, Buffer.concat([
    Buffer.from('[{"name":"Ana Malm'),
    Buffer.from([0xf6]),
    Buffer.from('","email":"ana@enc.example"},\n {"name":"Bo Lund","email":"bo@enc.example"}]'),
  ]));
  const res = await runCli(importArgs(mixed), { env: envFor(emulator) });
  t.is(res.code, 3, res.stderr);
  t.like(statsOf(res), { total: 2, created: 1, failed: 1 });
  t.deepEqual([...emulator.store.all()].map((c) => c.name), ['Bo Lund']);
  t.regex(readFileSync(join(dir, 'mixed.errors.csv'), 'utf8'), /^Ana Malmö,ana@enc\.example,1,ROW_ENCODING,,"Record 1 holds bytes that are not valid UTF-8/m);

  const latin = join(dir, 'latin.ndjson');
  writeFileSync(latin, Buffer.concat([Buffer.from('{"name":"Jos'), Buffer.from([0xe9]), Buffer.from(' M'), Buffer.from([0xfc]), Buffer.from('ller","email":"jm@enc.example"}\n')]));
  const asked = await runCli(importArgs(latin, '--encoding', 'windows-1252'), { env: envFor(emulator) });
  t.is(asked.code, 0, asked.stderr);
  t.like(statsOf(asked), { total: 1, created: 1, failed: 0, warnings: [] });
  t.is(emulator.store.findByEmail('jm@enc.example')?.name, 'José Müller');
});

test('--results names the email of rows the reader failed and of rows a map filtered out, as the map reads it', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);

  // A preset over JSON: the filter skips an agent; a record with a bad byte fails in the reader.
  const users = join(dir, 'users.json');
  writeFileSync(users, Buffer.concat([
    Buffer.from('[{"id":1,"name":"Ruth","email":"ruth@acme.example","role":"end-user","organization_id":null},\n'),
    Buffer.from(' {"id":2,"name":"Agent","email":"agent@acme.example","role":"agent","organization_id":null},\n'),
    Buffer.from(' {"id":3,"name":"Jos'),
    Buffer.from([0xe9]),
    Buffer.from('","email":"jose@acme.example","role":"end-user","organization_id":null}]'),
  ]));
  const zendesk = join(dir, 'zendesk.csv');
  const first = await runCli(importArgs(users, '--from', 'zendesk', '--results', zendesk), { env: envFor(emulator) });
  t.is(first.code, 3, first.stderr);
  t.like(statsOf(first), { total: 3, created: 1, skipped: 1, failed: 1 });
  t.deepEqual(resultsOf(zendesk).map((r) => [r.line, r.action, r.email]), [
    ['1', 'created', 'ruth@acme.example'],
    ['2', 'skipped', 'agent@acme.example'],
    ['3', 'failed', 'jose@acme.example'],
  ]);

  // A plain CSV: a ragged line names its email when the email column holds an address, never another cell.
  const csv = join(dir, 'ragged.csv');
  writeFileSync(csv, 'name,email\nAnn,ann@x.example,extra\nSmith, John,john@x.example\nBea,bea@x.example\n');
  const plain = join(dir, 'plain.csv');
  const second = await runCli(importArgs(csv, '--results', plain), { env: envFor(emulator) });
  t.is(second.code, 3, second.stderr);
  t.like(statsOf(second), { total: 3, created: 1, failed: 2 });
  t.deepEqual(resultsOf(plain).map((r) => [r.line, r.action, r.email]), [
    ['2', 'failed', 'ann@x.example'],
    ['3', 'failed', ''],
    ['4', 'created', 'bea@x.example'],
  ]);
});

test('numbers beyond a double keep every digit: two Zendesk ids past 2^53 are two contacts, a 20-digit number field is sent as written, 1e400 fails as written', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  // A double reads 9007199254740993 as …992: both records would claim one id (a false duplicate) and overwrite each other.
  const users = join(dir, 'bigid.ndjson');
  writeFileSync(users, [
    '{"id":9007199254740993,"name":"N One","email":"n1@zen.example","role":"end-user","organization_id":null}',
    '{"id":9007199254740992,"name":"N Two","email":"n2@zen.example","role":"end-user","organization_id":null}',
  ].join('\n'));
  const zendesk = await runCli(importArgs(users, '--from', 'zendesk'), { env: envFor(emulator) });
  t.is(zendesk.code, 0, zendesk.stderr);
  t.like(statsOf(zendesk), { total: 2, created: 2, failed: 0 });
  t.deepEqual(emulator.store.findByEmail('n1@zen.example')?.external_ids, [{ external_id: '9007199254740993', label: 'zendesk' }]);
  t.deepEqual(emulator.store.findByEmail('n2@zen.example')?.external_ids, [{ external_id: '9007199254740992', label: 'zendesk' }]);

  const fields = join(dir, 'fields.ndjson');
  writeFileSync(fields, [
    '{"name":"Big Seats","email":"seats@acme.example","custom":{"seats":99999999999999999999,"mrr":12.5}}',
    '{"name":"Huge Mrr","email":"mrr@acme.example","custom":{"seats":3,"mrr":1e400}}',
  ].join('\n'));
  const custom = await runCli(importArgs(fields), { env: envFor(emulator) });
  t.is(custom.code, 3, custom.stderr);
  t.like(statsOf(custom), { total: 2, created: 1, failed: 1 });
  t.like(emulator.store.findByEmail('seats@acme.example')?.custom_fields, { seats: { value: '99999999999999999999' } });
  const report = readFileSync(join(dir, 'fields.errors.csv'), 'utf8');
  t.regex(report, /^Huge Mrr,mrr@acme\.example,3,1e400,2,ROW_CUSTOM_FIELD_INVALID,custom\.mrr,"Column custom\.mrr: ""1e400"" is not a decimal number/m);
  t.false(report.includes('Infinity'));
});

test('a record carrying one field twice (a dotted key and a nested object, or email outside its emails list) fails ROW_FIELD_TWICE naming both keys; the same value twice imports', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const file = join(dir, 'twice.ndjson');
  writeFileSync(file, [
    '{"name":"Seats Twice","email":"st@twice.example","custom.seats":3,"custom":{"seats":4}}',
    '{"name":"Two Primaries","email":"a@twice.example","emails":["b@twice.example","c@twice.example"]}',
    '{"name":"Same Twice","email":"same@twice.example","emails":["Same@twice.example","d@twice.example"],"custom.seats":5,"custom":{"seats":5}}',
    '',
  ].join('\n'));
  const errors = join(dir, 'errors.csv');
  const res = await runCli(importArgs(file, '--errors', errors), { env: envFor(emulator) });
  t.is(res.code, 3, res.stderr);
  t.like(statsOf(res), { total: 3, created: 1, failed: 2 });
  t.is(emulator.store.findByEmail('same@twice.example')?.custom_fields?.seats?.value, '5');
  t.is(emulator.store.findByEmail('st@twice.example'), undefined);
  t.is(emulator.store.findByEmail('a@twice.example'), undefined);
  const report = parse(readFileSync(errors), { columns: true, bom: true }) as Array<Record<string, string>>;
  t.deepEqual(report.map((r) => [r._line, r._error_code, r.email]), [['1', 'ROW_FIELD_TWICE', 'st@twice.example'], ['2', 'ROW_FIELD_TWICE', 'a@twice.example']]);
  t.is(report[0]!._error_message, 'Line 1 carries custom.seats twice: as "custom.seats" ("3") and as "custom" → "seats" ("4"); keep one of them');
  t.regex(report[1]!._error_message!, /^Line 2 carries two primary emails: "email" \("a@twice\.example"\) is not in "emails" \("b@twice\.example;c@twice\.example"\)/);
  t.is(report[1]!.emails, 'b@twice.example;c@twice.example');
});

test('a JSON record or NDJSON line that is not an object: the report quotes its text, and the report fixed from it imports', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const cases = [
    { file: 'trailing.json', text: '[{"name":"J1","email":"j1@ndj.test"},\n{"name":"J2","email":"j2@ndj.test",}]\n', written: ['{""name"":""J2"",""email"":""j2@ndj.test"",}'] },
    { file: 'cut.ndjson', text: '{"name":"N1","email":"n1@ndj.test"}\n{"name":"N2","email":"n2@nd\n["N3","n3@ndj.test"]\n', written: ['{""name"":""N2"",""email"":""n2@nd;', '[""N3"",""n3@ndj.test""]'] },
  ];
  for (const { file, text, written } of cases) {
    const path = join(dir, file);
    writeFileSync(path, text);
    const first = await runCli(importArgs(path), { env: envFor(emulator) });
    t.is(first.code, 3, first.stderr);
    const reportPath = path.replace(/\.n?d?json$/, '.errors.csv');
    const report = readFileSync(reportPath, 'utf8');
    for (const raw of written) t.true(report.includes(`; as written: ${raw}`), `${file}: the report quotes ${raw}\n${report}`);
    t.regex(report, /fill its columns from it and empty its _error_code cell/);

    // The user copies the values into the columns and empties _error_code, as the message says.
    const rows = parse(report, { columns: true, bom: true }) as Array<Record<string, string>>;
    const fixed = rows.map((r) => {
      const name = ['J2', 'N2', 'N3'].find((n) => r._error_message!.includes(`"${n}"`))!;
      return `${name},${name.toLowerCase()}@ndj.test,${r._line},,,,,`;
    });
    writeFileSync(reportPath, ['name,email,_line,_error_code,_error_field,_error_message,_http_status,_request_id', ...fixed].join('\n') + '\n');
    const again = await runCli(importArgs(reportPath), { env: envFor(emulator) });
    t.is(again.code, 0, again.stderr);
    t.like(statsOf(again), { total: written.length, created: written.length, failed: 0 });
  }
  t.is(emulator.store.findByEmail('j2@ndj.test')?.name, 'J2');
  t.is(emulator.store.findByEmail('n2@ndj.test')?.name, 'N2');
  t.is(emulator.store.findByEmail('n3@ndj.test')?.name, 'N3');
});

test('a JSON file wrapped in an object (an API page): a usage error naming the key that holds the records and the jq command, exit 2, before any write', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const users = [{ id: 361000000001, name: 'Zed End', email: 'zed@wrap.test', role: 'end-user', organization_id: null, active: true, suspended: false }, { id: 361000000002, name: 'Ann Two', email: 'ann@wrap.test', role: 'end-user', organization_id: null, active: true, suspended: false }];
  const page = join(dir, 'page.json');
  writeFileSync(page, JSON.stringify({ users, next_page: null, previous_page: null, count: 2 }) + '\n');
  const contacts = join(dir, 'wrapped.json');
  writeFileSync(contacts, JSON.stringify({ contacts: [{ name: 'Cy', email: 'cy@wrap.test' }] }));
  // Pretty-printed (as an API client or jq without -c saves it), the first line is no JSON object: it got only the general message.
  const pretty = join(dir, 'pretty.json');
  writeFileSync(pretty, JSON.stringify({ users, next_page: null, previous_page: null, count: 2 }, null, 2) + '\n');
  for (const [file, args, key, count] of [[page, [], 'users', '2 objects'], [page, ['--from', 'zendesk'], 'users', '2 objects'], [contacts, [], 'contacts', '1 object'], [pretty, [], 'users', '2 objects'], [pretty, ['--from', 'zendesk'], 'users', '2 objects']] as const) {
    const result = await runCli(importArgs(file, ...args), { env: envFor(emulator) });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, new RegExp(`is one JSON object, not a list of records: its records are inside "${key}" \\(${count}\\)\\. Unwrap them first, e\\.g\\. jq '\\.${key}' ${file.split('/').pop()!.replace('.', '\\.')} > ${key}\\.json, and import ${key}\\.json`));
    t.notRegex(result.stderr, /Unknown columns|no email or id column|matches no/);
  }
  t.is(emulator.store.findByEmail('zed@wrap.test'), undefined);
  t.is(emulator.store.findByEmail('cy@wrap.test'), undefined);
});

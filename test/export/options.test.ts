import test from 'ava';
import { resolveExportOptions, type ExportOptionsInput } from '../../src/export/options.js';

const base: ExportOptionsInput = { token: 'tok_options_test', baseUrl: 'http://127.0.0.1:9', env: {} };

const pick = (input: ExportOptionsInput) => {
  const o = resolveExportOptions({ ...base, ...input });
  return {
    output: o.output,
    toStdout: o.toStdout,
    format: o.format,
    gzip: o.gzip,
    manifestPath: o.manifestPath,
    errorsPath: o.errorsPath,
    statePath: o.statePath,
    deletedPath: o.deletedPath,
  };
};

test('a file: csv, sidecars named after it', (t) => {
  t.deepEqual(pick({ output: 'out/contacts.csv' }), {
    output: 'out/contacts.csv',
    toStdout: false,
    format: 'csv',
    gzip: false,
    manifestPath: 'out/contacts.csv.manifest.json',
    errorsPath: 'out/contacts.csv.errors.csv',
    statePath: 'out/contacts.csv.state',
    deletedPath: undefined,
  });
});

test('format and gzip follow the name; flags win', (t) => {
  t.like(pick({ output: 'c.ndjson' }), { format: 'ndjson', gzip: false });
  t.like(pick({ output: 'c.jsonl.gz' }), { format: 'ndjson', gzip: true });
  t.like(pick({ output: 'c.csv.gz' }), { format: 'csv', gzip: true });
  t.like(pick({ output: 'c.data', format: 'ndjson', gzip: true }), { format: 'ndjson', gzip: true });
  t.like(pick({ output: 'c.csv.gz', gzip: false }), { gzip: false });
});

test('stdout: no manifest, state or report unless asked; --since needs --manifest', (t) => {
  t.deepEqual(pick({}), {
    output: '-',
    toStdout: true,
    format: 'csv',
    gzip: false,
    manifestPath: undefined,
    errorsPath: undefined,
    statePath: undefined,
    deletedPath: undefined,
  });
  t.like(pick({ output: '-', manifest: 'runs/night.manifest.json', since: 'runs/prev.manifest.json' }), {
    manifestPath: 'runs/night.manifest.json',
    errorsPath: 'runs/night.errors.csv',
    statePath: 'runs/night.state',
    deletedPath: 'runs/night.deleted.csv',
  });
  t.like(pick({ output: 'c.csv', since: 'p.json' }), { deletedPath: 'c.csv.deleted.csv' });
});

test('defaults: 999 per page, a page cap, no filter, all columns', (t) => {
  const o = resolveExportOptions({ ...base, output: 'c.csv' });
  t.is(o.pageSize, 999);
  t.is(o.maxPages, 100_000);
  t.is(o.filter, undefined);
  t.is(o.columns, undefined);
  t.false(o.bom);
  t.false(o.excelSafe);
});

test('--columns accepts a comma list or repeated flags', (t) => {
  t.deepEqual(resolveExportOptions({ ...base, columns: ' id, email ,custom.tier' }).columns, ['id', 'email', 'custom.tier']);
  t.deepEqual(resolveExportOptions({ ...base, columns: ['id', 'email,name'] }).columns, ['id', 'email', 'name']);
});

test('--filter: simple expressions and JSON', (t) => {
  t.deepEqual(resolveExportOptions({ ...base, filter: 'email~@acme.com' }).filter, { field: 'email', operator: 'string_contains', value: '@acme.com' });
  t.deepEqual(resolveExportOptions({ ...base, filter: 'account_id=a1 and tier in gold|silver' }).filter, {
    operator: 'and',
    subfilters: [
      { field: 'account_id', operator: 'equals', value: 'a1' },
      { field: 'tier', operator: 'in', values: ['gold', 'silver'] },
    ],
  });
  t.deepEqual(resolveExportOptions({ ...base, filter: '{"field":"id","operator":"in","values":["a"]}' }).filter, { field: 'id', operator: 'in', values: ['a'] });
});

const errors: Array<[string, ExportOptionsInput, RegExp]> = [
  ['bad format', { format: 'xml' }, /^Invalid option `--format`: expected one of csv, ndjson, parquet, got "xml"$/],
  ['page size 0', { pageSize: 0 }, /^Invalid option `--page-size`: expected an integer from 1 to 999, got 0$/],
  ['page size 1000', { pageSize: 1000 }, /^Invalid option `--page-size`: expected an integer from 1 to 999, got 1000$/],
  ['max pages', { maxPages: -1 }, /^Invalid option `--max-pages`/],
  ['bom with ndjson', { output: 'a.ndjson', bom: true }, /^Invalid option `--bom`: expected CSV output/],
  ['excel-safe with ndjson', { format: 'ndjson', excelSafe: true }, /^Invalid option `--excel-safe`: expected CSV output/],
  ['--json with stdout', { json: true }, /^Invalid option `--json`: stdout carries the export itself/],
  ['--since with stdout and no manifest', { since: 'a.manifest.json' }, /^Invalid option `--since`: with stdout output, also give --manifest/],
  ['empty --columns', { columns: ' , ' }, /^Invalid option `--columns`: expected a comma-separated list/],
  ['bad filter', { filter: 'email' }, /^Invalid option `--filter`: cannot read "email"/],
  ['no token', { token: undefined }, /^No API token/],
];

for (const [label, input, message] of errors) {
  test(`usage error: ${label}`, (t) => {
    const error = t.throws(() => resolveExportOptions({ ...base, ...input }));
    t.is(error?.name, 'ConfigError');
    t.regex(error!.message, message);
  });
}

test('--json is fine with a file', (t) => {
  t.notThrows(() => resolveExportOptions({ ...base, output: 'c.csv', json: true }));
});

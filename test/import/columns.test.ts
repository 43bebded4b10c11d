import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRecordSource } from '../../src/csv/read.js';
import { DEFAULT_CUSTOM_FIELDS } from '../../src/emulator/default-org.js';
import { PylonCliError } from '../../src/errors.js';
import { editDistance, loadMapping, resolveColumns, type ColumnPlan } from '../../src/import/columns.js';
import type { CustomFieldDefinition } from '../../src/pylon/types.js';

const customFields = DEFAULT_CUSTOM_FIELDS;
const fixtures = fileURLToPath(new URL('../fixtures/csv/', import.meta.url));
const headerOf = (file: string) => createRecordSource({ input: join(fixtures, file) }).header();

/** header → target name ('email', 'custom.tier', 'ignored:meta'). */
function targets(plan: ColumnPlan): Record<string, string> {
  return Object.fromEntries(
    plan.columns.map((c) => [c.header, c.target.kind === 'standard' ? c.target.column : c.target.kind === 'custom' ? 'custom.' + c.target.slug : 'ignored:' + c.target.reason]),
  );
}

function configError(t: { throws: (fn: () => unknown) => unknown }, fn: () => unknown): PylonCliError {
  const error = t.throws(fn) as PylonCliError;
  return error;
}

test('standard columns match case-insensitively after trimming; _ columns are ignored', (t) => {
  const plan = resolveColumns([' Email ', 'NAME', 'Portal_Role', 'phone_numbers', '_line', '_error_code', 'id'], { customFields });
  t.deepEqual(targets(plan), {
    ' Email ': 'email',
    NAME: 'name',
    Portal_Role: 'portal_role',
    phone_numbers: 'phone_numbers',
    _line: 'ignored:meta',
    _error_code: 'ignored:meta',
    id: 'id',
  });
  t.deepEqual(plan.fields, ['email', 'name', 'portal_role', 'phone_numbers', 'id']);
  t.deepEqual(plan.indexOf, { email: 0, name: 1, portal_role: 2, phone_numbers: 3, id: 6 });
  t.deepEqual(plan.ignored, ['_line', '_error_code']);
  t.true(plan.hasEmail);
  t.true(plan.hasId);
  t.deepEqual(plan.warnings, []);
});

test('hasEmail and hasId are false when the columns are absent', (t) => {
  const plan = resolveColumns(['name', 'emails'], { customFields });
  t.false(plan.hasEmail);
  t.false(plan.hasId);
});

test('custom columns: exact slug, case-insensitive slug, dotted slugs (fixture dotted-slug.csv)', async (t) => {
  const plan = resolveColumns(await headerOf('dotted-slug.csv'), { customFields });
  t.deepEqual(targets(plan), {
    email: 'email',
    'custom.contact.salesforce.Contact_ID_for_Pylon__c': 'custom.contact.salesforce.Contact_ID_for_Pylon__c',
    'CUSTOM.Tier': 'custom.tier',
  });
  t.deepEqual(plan.fields, ['email', 'custom.contact.salesforce.Contact_ID_for_Pylon__c', 'custom.tier']);
  const lower = resolveColumns(['custom.contact.salesforce.contact_id_for_pylon__c'], { customFields });
  t.is(lower.fields[0], 'custom.contact.salesforce.Contact_ID_for_Pylon__c');
});

test('a slug that differs only by case from another needs the exact spelling', (t) => {
  const twins: CustomFieldDefinition[] = [
    { id: '1', slug: 'Region', label: 'Region A', type: 'text', object_type: 'contact' },
    { id: '2', slug: 'region', label: 'Region B', type: 'text', object_type: 'contact' },
  ];
  t.deepEqual(resolveColumns(['custom.Region', 'custom.region'], { customFields: twins }).fields, ['custom.Region', 'custom.region']);
  const error = configError(t, () => resolveColumns(['custom.REGION'], { customFields: twins }));
  t.is(error.code, 'CONFIG_UNKNOWN_COLUMNS');
});

test('a bare header naming a custom field by label or slug maps to it', (t) => {
  const plan = resolveColumns(['email', 'Tier', 'Renewal date', 'mrr', 'LinkedIn'], { customFields });
  t.deepEqual(plan.fields, ['email', 'custom.tier', 'custom.renewal_date', 'custom.mrr', 'custom.linkedin']);
});

test('headers with invisible characters still match (fixture invisible-header.csv)', async (t) => {
  const plan = resolveColumns(await headerOf('invisible-header.csv'), { customFields });
  t.deepEqual(plan.fields, ['email', 'name', 'custom.tier']);
});

test('unknown columns: one ConfigError naming every one, with suggestions (fixture unknown-columns.csv)', async (t) => {
  const header = await headerOf('unknown-columns.csv');
  const error = configError(t, () => resolveColumns(header, { customFields }));
  t.is(error.code, 'CONFIG_UNKNOWN_COLUMNS');
  t.is(error.name, 'ConfigError');
  // custom.tierr gets no suggestion: the file's custom.tier column reads that field, and a map giving it a second
  // column is refused ("both map to custom.tier").
  t.true(error.message.startsWith('Unknown columns in the header: "Emial" (did you mean email?), "custom.tierr", "Favourite colour". '), error.message);
  t.regex(error.message, /--ignore-unknown-columns/);
  // The map that reads the columns a field was suggested for, to copy into the file.
  t.regex(error.message, /--map mapping\.json holding \{"Emial":"email"\}, or skip/);
  t.notRegex(error.message.split(' Known columns')[0]!, /"_line"|"Name"|"custom\.tier"[^r]/);
});

test('--ignore-unknown-columns ignores them', async (t) => {
  const plan = resolveColumns(await headerOf('unknown-columns.csv'), { customFields, ignoreUnknown: true });
  t.deepEqual(targets(plan), {
    Name: 'name',
    Emial: 'ignored:unknown',
    'custom.tierr': 'ignored:unknown',
    'Favourite colour': 'ignored:unknown',
    _line: 'ignored:meta',
    'custom.tier': 'custom.tier',
  });
  t.false(plan.hasEmail);
});

test('custom.<x> for a field that does not exist is an unknown column', (t) => {
  const error = configError(t, () => resolveColumns(['email', 'custom.favourite_colour'], { customFields }));
  t.is(error.code, 'CONFIG_UNKNOWN_COLUMNS');
  t.regex(error.message, /^Unknown column in the header: "custom\.favourite_colour"\./);
});

test('--map: header → target, matched exactly then case-insensitively; null ignores; unused keys warn', (t) => {
  const plan = resolveColumns(['E-Mail', 'full name', 'Company', 'Level', 'Junk'], {
    customFields,
    map: { 'E-Mail': 'email', 'Full Name': 'name', Company: 'account_external_id', Level: 'custom.tier', Junk: null, Missing: 'emails' },
  });
  t.deepEqual(targets(plan), {
    'E-Mail': 'email',
    'full name': 'name',
    Company: 'account_external_id',
    Level: 'custom.tier',
    Junk: 'ignored:mapped',
  });
  t.deepEqual(plan.warnings, ['--map: no column "Missing" in the file']);
});

test('--map to a custom field that does not exist is an unknown column', (t) => {
  const error = configError(t, () => resolveColumns(['Level'], { customFields, map: { Level: 'custom.level' } }));
  t.is(error.code, 'CONFIG_UNKNOWN_COLUMNS');
  t.regex(error.message, /"Level" \(mapped to "custom\.level"\)/);
});

test('two columns for one field: CONFIG_BAD_MAPPING naming both', (t) => {
  const error = configError(t, () => resolveColumns(['email', 'name', 'E-mail'], { customFields, map: { 'E-mail': 'email' } }));
  t.is(error.code, 'CONFIG_BAD_MAPPING');
  t.is(error.message, 'Columns "email" (column 1) and "E-mail" (column 3) both map to email; remove one, or ignore one with --map (map it to null).');
  const custom = configError(t, () => resolveColumns(['custom.tier', 'Tier'], { customFields }));
  t.regex(custom.message, /both map to custom\.tier/);
});

test('two columns of the same name: the advice is to remove or rename one, since no --map can ignore just one of them', (t) => {
  const error = configError(t, () => resolveColumns(['name', 'email', 'email'], { customFields }));
  t.is(error.code, 'CONFIG_BAD_MAPPING');
  t.is(error.message, 'Columns "email" (column 2) and "email" (column 3) both map to email; remove one, or rename one (a header starting with _ is ignored): --map cannot ignore just one of two columns with the same name.');
  // The advice holds: a map ignoring "email" ignores both; renaming one works.
  t.deepEqual(resolveColumns(['name', 'email', 'email'], { customFields, map: { email: null } }).fields, ['name']);
  t.deepEqual(resolveColumns(['name', 'email', '_email'], { customFields }).fields, ['name', 'email']);
  // Names equal once invisible characters and spaces are removed are the same name to a map.
  t.regex(configError(t, () => resolveColumns(['email', ' email\u200b'], { customFields })).message, /--map cannot ignore just one/);
});

test('two columns whose names differ only in case: the advice is a map naming both, and that map works', (t) => {
  const error = configError(t, () => resolveColumns(['name', 'Email', 'email'], { customFields }));
  t.is(error.message, 'Columns "Email" (column 2) and "email" (column 3) both map to email; remove one, or ignore one with a --map naming both exactly (a key matches a header of any case when no key matches it exactly), e.g. {"email":null,"Email":"email"}.');
  const plan = resolveColumns(['name', 'Email', 'email'], { customFields, map: { email: null, Email: 'email' } });
  t.deepEqual(plan.fields, ['name', 'email']);
  t.is(plan.indexOf.email, 1);
  // A map naming one of them alone ignores both.
  t.deepEqual(resolveColumns(['name', 'Email', 'email'], { customFields, map: { email: null } }).fields, ['name']);
});

test('a column without a header is ignored with a warning', (t) => {
  const plan = resolveColumns(['name', 'email', ''], { customFields });
  t.deepEqual(plan.fields, ['name', 'email']);
  t.deepEqual(plan.warnings, ['Column 3 has no header; it is ignored']);
});

test('loadMapping reads a JSON object and normalises targets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-map-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  t.deepEqual(await loadMapping(write('ok.json', '\ufeff{"E-Mail": "Email", "Tier": " custom.tier ", "Skip": null, "Meta": "_x", "Blank": ""}')), {
    'E-Mail': 'email',
    Tier: 'custom.tier',
    Skip: null,
    Meta: null,
    Blank: null,
  });
  const bad = async (path: string, pattern: RegExp) => {
    const error = (await t.throwsAsync(loadMapping(path))) as PylonCliError;
    t.is(error.code, 'CONFIG_BAD_MAPPING');
    t.is(error.name, 'ConfigError');
    t.regex(error.message, pattern);
  };
  await bad(write('broken.json', '{"a": '), /broken\.json is not valid JSON/);
  await bad(write('array.json', '["email"]'), /must hold a JSON object/);
  await bad(write('targets.json', '{"A": "e-mail", "B": 3, "C": "custom."}'), /invalid targets: "A": "e-mail", "B": 3 \(not a string\), "C": "custom\."/);
  await bad(join(dir, 'missing.json'), /Cannot read the mapping file .*missing\.json/);
});

test('editDistance', (t) => {
  // Two neighbours swapped is one slip (--fromat for --format), not two replacements.
  t.is(editDistance('emial', 'email'), 1);
  t.is(editDistance('fromat', 'format'), 1);
  t.is(editDistance('fromat', 'from'), 2);
  t.is(editDistance('ab', 'ba'), 1);
  t.is(editDistance('abc', 'ca'), 3);
  t.is(editDistance('', 'abc'), 3);
  t.is(editDistance('tier', 'tier'), 0);
});

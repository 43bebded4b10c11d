/**
 * HubSpot exports in each language of the export API (issue 18): a file built
 * from each localized preset's labels, with the mess real files carry (BOM,
 * CRLF, trailing spaces, a blank row, one address twice in different case),
 * imported by dry run then for real through the built CLI; every stored field
 * is compared. A file with a column missing stops with exit 2 before any write,
 * naming the closest preset and what it misses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, REPO, envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, storedFields, type StoredFields } from '../helpers/corpus.js';

interface Labels {
  id: string;
  first: string;
  last: string;
  email: string;
  phone: string;
  mobile: string;
  country: string;
  company: string;
}

/** The labels of a localized preset, read back from the preset file itself. */
function labelsOf(code: string): Labels {
  const preset = JSON.parse(readFileSync(join(REPO, 'presets', `hubspot-${code}.json`), 'utf8'));
  const [id, first, last, email] = preset.fingerprint as string[];
  const [phone, mobile] = preset.fields.phone_numbers.list as string[];
  const company = (preset.account.column as string[]).at(-1)!;
  return { id: id!, first: first!, last: last!, email: email!, phone: phone!, mobile: mobile!, country: preset.country.column, company };
}

const LANGUAGES = ['de', 'es', 'fi', 'fr', 'it', 'ja', 'nl', 'pl', 'pt', 'sv'] as const;

/** A CSV as Excel saves it: BOM, CRLF, a trailing space after some labels and values. */
function exportFile(dir: string, code: string, labels: Labels, drop?: keyof Labels): string {
  const columns: Array<keyof Labels> = ['id', 'first', 'last', 'email', 'phone', 'mobile', 'country', 'company'];
  const kept = columns.filter((c) => c !== drop);
  const rows: Array<Record<keyof Labels, string>> = [
    { id: '7101', first: 'Anna ', last: 'Berg', email: 'anna.berg@globex.example ', phone: '030 1234567', mobile: '+44 7400 123456', country: 'DE', company: 'Globex Corporation ' },
    { id: '7102', first: 'Luca', last: 'Conti', email: 'Luca.Conti@Initech.example', phone: '(201) 555-0133', mobile: '', country: 'United States', company: 'Initech' },
    { id: '7103', first: 'Luca', last: 'Conti', email: 'luca.conti@initech.example', phone: '', mobile: '', country: '', company: 'Initech' },
  ];
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [kept.map((c, i) => quote(labels[c] + (i % 2 === 0 ? ' ' : ''))).join(',')];
  lines.push(kept.map((c) => quote(rows[0]![c])).join(','), '', ...rows.slice(1).map((r) => kept.map((c) => quote(r[c])).join(',')), '');
  const path = join(dir, `hubspot-${code}${drop ? `-without-${drop}` : ''}.csv`);
  writeFileSync(path, '\ufeff' + lines.join('\r\n'));
  return path;
}

for (const code of LANGUAGES) {
  test(`hubspot-${code}.json: a ${code.toUpperCase()} export (BOM, CRLF, trailing spaces, a blank row, an address twice) by dry run then for real; every stored field; a re-run writes nothing`, async (t) => {
    const emulator = await startEmulator(t);
    const labels = labelsOf(code);
    const input = exportFile(tempDir(t), code, labels);
    const dry = await importFile(t, emulator, input, 'hubspot', ['--dry-run']);
    t.is(writes(emulator), 0, 'the dry run writes nothing');
    t.regex(dry.stderr, new RegExp(`--from hubspot: map .*hubspot-${code}\\.json`), 'the preset of that language is chosen by the header');
    const real = await importFile(t, emulator, input, 'hubspot');
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    t.like(real.stats, { total: 3, created: 2, failed: 1 });

    const family = code === 'ja';
    const expected: Record<string, StoredFields> = {
      '2': { name: family ? 'Berg Anna' : 'Anna Berg', email: 'anna.berg@globex.example', phones: ['49301234567', '447400123456'], externalIds: [['hubspot', '7101']], account: 'Globex Corporation' },
      '4': { name: family ? 'Conti Luca' : 'Luca Conti', email: 'Luca.Conti@Initech.example', phones: ['12015550133'], externalIds: [['hubspot', '7102']], account: 'Initech' },
    };
    for (const [line, fields] of Object.entries(expected)) {
      const result = real.results.find((r) => r._line === line);
      t.is(result?._action, 'created', `line ${line}`);
      const stored = emulator.store.get(result?._contact_id ?? '');
      t.deepEqual(stored && storedFields(emulator, stored), fields, `line ${line}`);
    }
    const duplicate = real.errors.find((r) => r._line === '5');
    t.is(duplicate?._error_code, 'ROW_DUPLICATE_IN_FILE');
    t.regex(duplicate?._error_message ?? '', /line 4 \(same email/);
    t.is(emulator.store.size, 2);

    const before = writes(emulator);
    const again = await importFile(t, emulator, input, 'hubspot');
    t.is(writes(emulator) - before, 0, 'a second run sends no write');
    t.is(again.stats.unchanged, 2);
  });
}

// A column missing: the run stops before any call that writes, naming the closest preset and the label it misses.
const MISSING: Array<[code: string, drop: keyof Labels]> = [
  ['de', 'last'],
  ['fr', 'email'],
  ['ja', 'id'],
  ['pt', 'first'],
];

for (const [code, drop] of MISSING) {
  test(`hubspot-${code}.json without its ${drop} column: exit 2 before any write, naming hubspot-${code}.json and the missing label`, async (t) => {
    const emulator = await startEmulator(t);
    const labels = labelsOf(code);
    const dir = tempDir(t);
    const input = exportFile(dir, code, labels, drop);
    const res = await runCli(['import', input, '--from', 'hubspot', '--rate', FAST_RATE, '--errors', join(dir, 'e.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
    t.is(res.code, 2, res.stderr);
    const label = labels[drop].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    t.regex(res.stderr, new RegExp(`matches no hubspot preset\\. Closest: .*hubspot-${code}\\.json\\), which needs "${label}", not in the file`));
    t.notRegex(res.stderr, /\n\s+at /, 'no stack trace');
    t.is(writes(emulator), 0);
    t.is(emulator.store.size, 0);
  });
}

test('without --from, a localized header gets the note naming --from hubspot', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const input = exportFile(dir, 'nl', labelsOf('nl'));
  const res = await runCli(['import', input, '--dry-run', '--rate', FAST_RATE, '--errors', join(dir, 'e.csv'), '--journal', join(dir, 'j.jsonl')], { env: envFor(emulator), cwd: dir });
  t.regex(res.stderr, /looks like a hubspot export \(Record-ID, Voornaam, Achternaam, E-mail\): import it with --from hubspot/);
  t.is(writes(emulator), 0);
});

// HubSpot's German help pages call the mobile phone property "Handynummer"; the German preset reads it beside "Mobiltelefonnummer".
test('hubspot-de.json: a German export whose mobile column is labelled "Handynummer" keeps that number', async (t) => {
  const emulator = await startEmulator(t);
  const labels = { ...labelsOf('de'), mobile: 'Handynummer' };
  const input = exportFile(tempDir(t), 'de', labels);
  const real = await importFile(t, emulator, input, 'hubspot');
  t.like(real.stats, { total: 3, created: 2, failed: 1 });
  const result = real.results.find((r) => r._line === '2');
  const stored = emulator.store.get(result?._contact_id ?? '');
  t.deepEqual(stored && storedFields(emulator, stored).phones, ['49301234567', '447400123456']);
});

// Labels HubSpot's own help pages give besides the preset's first choice (sources in docs/migrate.md):
// French "Adresse e-mail" and Spanish "Correo electrónico" (the contact email property), Portuguese
// "Número de telefone celular" (the mobile phone property), German "Unternehmen Name" (the contact's
// company name). Each export below carries the alternative label only; every stored field is compared.
const ALTERNATIVES: Array<[code: string, role: keyof Labels, label: string]> = [
  ['fr', 'email', 'Adresse e-mail'],
  ['es', 'email', 'Correo electrónico'],
  ['pt', 'mobile', 'Número de telefone celular'],
  ['de', 'company', 'Unternehmen Name'],
  // HubSpot's Spanish page on importing contacts in the mobile app, German page on HubSpot AI, and the 2022 Dutch mobile-app page.
  ['es', 'last', 'Apellido'],
  ['de', 'country', 'Land'],
  ['nl', 'phone', 'Telefoon'],
];

for (const [code, role, label] of ALTERNATIVES) {
  test(`hubspot-${code}.json: an export whose ${role} column is labelled ${JSON.stringify(label)} is read by the ${code.toUpperCase()} preset, every field kept`, async (t) => {
    const emulator = await startEmulator(t);
    const labels = { ...labelsOf(code), [role]: label };
    const input = exportFile(tempDir(t), code, labels);
    const real = await importFile(t, emulator, input, 'hubspot');
    t.regex(real.stderr, new RegExp(`--from hubspot: map .*hubspot-${code}\\.json`), 'the preset of that language is chosen by the header');
    t.notRegex(real.stderr, /matching accounts by the email's domain instead/, 'the company column is found');
    t.like(real.stats, { total: 3, created: 2, failed: 1 });
    const result = real.results.find((r) => r._line === '2');
    const stored = emulator.store.get(result?._contact_id ?? '');
    t.deepEqual(stored && storedFields(emulator, stored), {
      name: 'Anna Berg',
      email: 'anna.berg@globex.example',
      phones: ['49301234567', '447400123456'],
      externalIds: [['hubspot', '7101']],
      account: 'Globex Corporation',
    });
  });
}

/** Per language: country cells as that portal writes them, a national number of that country, and the number stored. */
const LOCAL_COUNTRIES: Record<(typeof LANGUAGES)[number], Array<[country: string, phone: string, stored: string]>> = {
  de: [['Vereinigtes Königreich', '020 7946 0958', '442079460958'], ['Frankreich', '01 23 45 67 89', '33123456789']],
  es: [['Alemania', '030 1234567', '49301234567'], ['Reino Unido', '020 7946 0958', '442079460958']],
  fi: [['Suomi', '09 1234567', '35891234567'], ['Ruotsi', '08-123 456 78', '46812345678']],
  fr: [['Royaume-Uni', '020 7946 0958', '442079460958'], ['Etats-Unis', '(201) 555-0133', '12015550133']],
  it: [['Germania', '030 1234567', '49301234567'], ['Regno Unito', '020 7946 0958', '442079460958']],
  ja: [['日本', '03-1234-5678', '81312345678'], ['イギリス', '020 7946 0958', '442079460958']],
  nl: [['Duitsland', '030 1234567', '49301234567'], ['Verenigd Koninkrijk', '020 7946 0958', '442079460958']],
  pl: [['Polska', '22 123 45 67', '48221234567'], ['Niemcy', '030 1234567', '49301234567']],
  pt: [['Alemanha', '030 1234567', '49301234567'], ['França', '01 23 45 67 89', '33123456789']],
  sv: [['Sverige', '08-123 456 78', '46812345678'], ['Storbritannien', '020 7946 0958', '442079460958']],
};

test('each localized export writes the country in its own language: the country cell reads the national numbers (--default-country does not)', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  let id = 8100;
  for (const code of LANGUAGES) {
    const labels = labelsOf(code);
    const rows = LOCAL_COUNTRIES[code].map(([country, phone], i) => [String(++id), `Name${i}`, code, `${code}${i}@local.example`, phone, country].join(','));
    const input = join(dir, `hubspot-${code}-countries.csv`);
    writeFileSync(input, '\ufeff' + [[labels.id, labels.first, labels.last, labels.email, labels.phone, labels.country].join(','), ...rows, ''].join('\r\n'));
    const run = await importFile(t, emulator, input, 'hubspot', ['--default-country', 'US']);
    t.like(run.stats, { total: 2, created: 2, failed: 0 }, code);
    t.false('phonesDropped' in run.stats && (run.stats as { phonesDropped?: number }).phonesDropped! > 0, `${code}: ${run.results.map((r) => r._message).join(' | ')}`);
    LOCAL_COUNTRIES[code].forEach(([country, , stored], i) => {
      t.deepEqual(emulator.store.findByEmail(`${code}${i}@local.example`)?.phone_numbers, [stored], `${code}: ${country}`);
    });
  }
});

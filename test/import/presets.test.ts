/** The shipped presets: detection by header stays unambiguous as presets are added (issue 18). */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { detectPreset, fingerprintScore, listPresets } from '../../src/import/migrate.js';
import type { FieldSpec, TransformMap } from '../../src/import/transform.js';

test('every preset is the only one whose fingerprint a header made of its own fingerprint carries', async (t) => {
  const presets = await listPresets();
  t.true(presets.length >= 19);
  for (const preset of presets) {
    const header = preset.map.fingerprint!;
    const full = presets.filter((p) => fingerprintScore(p.map, header) === 1).map((p) => p.file);
    t.deepEqual(full, [preset.file], `${preset.file}: ${header.join(', ')}`);
    t.is(detectPreset(presets, header)?.file, preset.file);
  }
});

test('a HubSpot preset for each language of the export API, each with its record id as the hubspot external id', async (t) => {
  const presets = await listPresets();
  for (const code of ['de', 'es', 'fi', 'fr', 'it', 'ja', 'nl', 'pl', 'pt', 'sv']) {
    const preset = presets.find((p) => p.file.endsWith(`hubspot-${code}.json`));
    t.truthy(preset, code);
    t.is(preset?.name, 'hubspot', code);
    t.is(preset?.map.externalId?.column, preset?.map.fingerprint?.[0], code);
    t.is(preset?.map.externalId?.label, 'hubspot', code);
  }
});

test('labels with decomposed accents (NFD, as some tools write them) match a preset written composed', async (t) => {
  const presets = await listPresets();
  const header = ["ID de fiche d'informations", 'Prénom', 'Nom', 'E-mail'].map((h) => h.normalize('NFD'));
  t.not(header[1], 'Prénom');
  t.regex(detectPreset(presets, header)?.file ?? '', /hubspot-fr\.json$/);
});

/** Every column label a map names: fingerprint, aliases, fields, external id, country, account. */
function labelsOf(map: TransformMap): Set<string> {
  const labels = new Set<string>([...(map.fingerprint ?? []), ...Object.values(map.aliases ?? {}).flat()]);
  const columns = (spec: FieldSpec | null) => (spec === null ? [] : spec.kind === 'copy' ? [spec.from] : spec.kind === 'const' ? [] : spec.from);
  for (const spec of Object.values(map.fields)) columns(spec).forEach((c) => labels.add(c));
  if (map.externalId) labels.add(map.externalId.column);
  if (map.country) labels.add(map.country.column);
  for (const c of map.account?.columns ?? (map.account?.column ? [map.account.column] : [])) labels.add(c);
  return labels;
}

test('docs/migrate.md lists every label of every localized HubSpot preset with its source (a HubSpot page) or "unverified"', async (t) => {
  const doc = readFileSync(new URL('../../docs/migrate.md', import.meta.url), 'utf8');
  const sources = new Map([...doc.matchAll(/^- `([a-z0-9-]+)`: (https?:\/\/\S+): /gm)].map((m) => [m[1]!, m[2]!]));
  t.true(sources.size >= 10);
  for (const url of sources.values()) t.regex(url, /^https?:\/\/knowledge\.hubspot\.com\//);
  const rows = [...doc.matchAll(/^\| ([A-Z]{2}) \| `([^`]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => ({ code: m[1]!.toLowerCase(), label: m[2]!, source: m[3]!.trim() }));
  const presets = await listPresets();
  for (const code of ['de', 'es', 'fi', 'fr', 'it', 'ja', 'nl', 'pl', 'pt', 'sv']) {
    const preset = presets.find((p) => p.file.endsWith(`hubspot-${code}.json`))!;
    const listed = rows.filter((r) => r.code === code);
    t.deepEqual(listed.map((r) => r.label).sort(), [...labelsOf(preset.map)].sort(), `${code}: the table's labels are the preset's`);
    for (const r of listed) t.true(r.source.startsWith('unverified') || sources.has(r.source), `${code} ${r.label}: ${r.source}`);
  }
});

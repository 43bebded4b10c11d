/** The shipped presets: detection by header stays unambiguous as presets are added (issue 18). */
import test from 'ava';
import { detectPreset, fingerprintScore, listPresets } from '../../src/import/migrate.js';

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

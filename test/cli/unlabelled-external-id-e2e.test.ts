/**
 * External ids imported without a label are stored under `import`, which every unlabelled import shares: a second
 * system's file keyed the same way then rewrites the first system's contacts whose ids are the same (Help Scout
 * customer 123 rewrites Zoho record 123). Such a run says so before any write, in the dry run and the real run,
 * naming --external-id-label; a run given a label, or using a preset, does not.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, FAST_RATE, runCli, startEmulator, statsOf, tempDir } from '../helpers/cli.js';

const WARNING = /the external id label "import", which every import without a label shares: .*--external-id-label <system> \(e\.g\. --external-id-label zoho\)/;

test('an --external-id-column or a map externalId without a label warns before any write, in the dry run and the real run; a label or a preset does not', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t);
  const env = { ...envFor(emulator), XDG_STATE_HOME: join(dir, 'state') };
  const zoho = join(dir, 'zoho.csv');
  writeFileSync(zoho, 'crm_id,name,email\n123,Yan Zoho,yan@zoho.example\n');
  const map = join(dir, 'map.json');
  writeFileSync(map, JSON.stringify({ fields: { name: 'name', email: 'email' }, externalId: { column: 'crm_id' } }));
  const run = async (args: string[]) => {
    const res = await runCli(['import', zoho, '--rate', FAST_RATE, '--no-undo', '--json', ...args], { env, cwd: dir });
    // 3: a label other than the stored one fails the row (ROW_EXTERNAL_ID_TAKEN), which is not what is checked here.
    t.true(res.code === 0 || res.code === 3, res.stderr);
    return { stats: statsOf(res), stderr: res.stderr };
  };

  for (const how of [['--external-id-column', 'crm_id'], ['--map', map]]) {
    for (const mode of [['--dry-run'], []]) {
      const { stats, stderr } = await run([...how, ...mode]);
      const said = how[0] === '--map' ? `the map's externalId column "crm_id"` : '--external-id-column "crm_id"';
      // Said at the start, before the rows (a warning: line of its own), and among the run's warnings.
      t.regex(stderr, new RegExp(`^warning: the ids of ${said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} are stored under ${WARNING.source}`, 'm'), stderr);
      t.true(stats.warnings.some((w) => WARNING.test(w)), JSON.stringify(stats.warnings));
    }
  }
  t.deepEqual(emulator.store.get([...emulator.store.all()][0]!.id)?.external_ids, [{ external_id: '123', label: 'import' }]);

  // A label given (even "import") or a preset's: no warning.
  for (const args of [['--external-id-column', 'crm_id', '--external-id-label', 'zoho'], ['--external-id-column', 'crm_id', '--external-id-label', 'import']]) {
    const { stats, stderr } = await run([...args, '--dry-run']);
    t.notRegex(stderr, WARNING);
    t.false(stats.warnings.some((w) => WARNING.test(w)));
  }
  const freshdesk = join(dir, 'freshdesk.csv');
  writeFileSync(freshdesk, 'id,name,email,phone,mobile,other_emails\n5001,Sam F,sam@acme.example,,,\n');
  const preset = await runCli(['import', freshdesk, '--from', 'freshdesk', '--dry-run', '--rate', FAST_RATE, '--json'], { env, cwd: dir });
  t.is(preset.code, 0, preset.stderr);
  t.notRegex(preset.stderr, WARNING);
});

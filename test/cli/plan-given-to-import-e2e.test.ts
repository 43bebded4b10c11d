/**
 * A saved plan given to `import` or `update` (`import plan.json`: a newcomer holding the reviewed plan and the
 * import command): it was read as an API page wrapping records, and the message said to unwrap its "changes"
 * with jq and import them, which would import plan entries as contacts. It now says the file is a plan, and the
 * commands that review and apply it. Exit 2, before any write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

test('a plan given to import or update is named as a plan, with show and apply', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-plan-to-import-');
  const env = envFor(emulator);
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda,ada.plan@example.com\n');
  t.is((await runCli(['import', 'contacts.csv', '--quiet'], { env, cwd: dir })).code, 0);
  writeFileSync(join(dir, 'admins.csv'), 'email\nada.plan@example.com\n');
  const made = await runCli(['update', 'admins.csv', '--set', 'portal_role=admin', '--plan-out', 'plan.json'], { env, cwd: dir });
  t.is(made.code, 0, made.stderr);
  const before = writes(emulator);
  for (const args of [['import', 'plan.json'], ['import', 'plan.json', '--dry-run'], ['update', 'plan.json']]) {
    const run = await runCli(args, { env, cwd: dir });
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, /^pylon-contacts: \S*plan\.json is a pylon-contacts plan \(made with --plan-out\), not a file of contacts: review it with `pylon-contacts show \S*plan\.json` and apply it with `pylon-contacts apply \S*plan\.json`\. Nothing was sent to Pylon\.\n/, args.join(' '));
    t.notRegex(run.stderr, /jq|Unwrap/);
    t.regex(run.stderr, /pylon-contacts: error INPUT_FORMAT \(exit 2; see docs\/errors\.md\)\n$/);
  }
  t.is(writes(emulator), before, 'nothing written');
  // The way it names works: apply takes the plan.
  const applied = await runCli(['apply', 'plan.json', '--yes', '--quiet'], { env, cwd: dir });
  t.is(applied.code, 0, applied.stderr);
  t.is([...emulator.store.all()].find((c) => c.email === 'ada.plan@example.com')?.portal_role, 'admin');
});

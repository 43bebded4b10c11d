/**
 * The --map suggested for unknown headers (103caca) must be one --map accepts, for the headers real exports write
 * (shared/user-research.md §5): before, a Salesforce report's `Phone` and `Mobile Phone` were both offered as
 * phone_numbers, and Front's `email2` (beside `email`) as email, so the map copied from the message was refused
 * ("both map to ..."); Zendesk's `role` (end-user, agent, admin) was offered as portal_role, whose values those are not.
 * Now a field is offered for one header only, never for one another column already reads, and `role` for none.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { envFor, runCli, startEmulator, tempDir, writes } from '../helpers/cli.js';

const EXAMPLE = /map them with --map mapping\.json holding (\{[^}]*\}), or skip them with --ignore-unknown-columns\./;

test('the map suggested for a real export header is accepted by --map and sends nothing by itself', async (t) => {
  const emulator = await startEmulator(t);
  const dir = tempDir(t, 'pylon-usual-real-');
  const env = envFor(emulator);
  const files: Array<[string, string, Record<string, string>]> = [
    ['sf-report.csv', 'Contact ID,Name,Email,Phone,Mobile Phone\n003A,Ann Lee,ann.real@example.com,+14155550142,+14155550143\n', { Phone: 'phone_numbers' }],
    ['front.csv', 'name,email,email2,phone,phone2\nBo Ray,bo.real@example.com,bo2.real@example.com,+14155550144,\n', { phone: 'phone_numbers' }],
    ['zendesk.csv', 'name,email,role,phone\nCy Oh,cy.real@example.com,end-user,+14155550145\n', { phone: 'phone_numbers' }],
  ];
  for (const [name, text, expected] of files) {
    writeFileSync(join(dir, name), text);
    const refused = await runCli(['import', name, '--dry-run'], { env, cwd: dir });
    t.is(refused.code, 2, refused.stderr);
    t.notRegex(refused.stderr, /\n\s+at /);
    const map = EXAMPLE.exec(refused.stderr);
    t.truthy(map, refused.stderr);
    t.deepEqual(JSON.parse(map![1]!), expected, name);
    t.notRegex(refused.stderr, /"(Mobile Phone|email2|role)" \(did you mean/, name);
    // The map copied from the message is accepted: the dry run plans the row, the other columns skipped.
    writeFileSync(join(dir, `${name}.map.json`), map![1]!);
    const planned = await runCli(['import', name, '--map', `${name}.map.json`, '--ignore-unknown-columns', '--dry-run'], { env, cwd: dir });
    t.is(planned.code, 0, `${name}: ${planned.stderr}`);
    t.regex(planned.stderr, /would create 1,/, name);
  }
  t.is(writes(emulator), 0, 'nothing is sent by a refusal or a dry run');
});

/**
 * Every `pylon-contacts` command in README.md's shell blocks, run as written, in the README's order,
 * against an emulator (the built CLI in a child process, in a folder holding the files the commands
 * name): none is refused as a usage error, none prints a stack trace or the token, and what the
 * README says they do holds in the store: the role change is applied, then undone; the nightly export
 * loads every contact into PostgreSQL. The README's rehearsal block starts its own emulator, as
 * written (its seed file, the token it prints), and the commands after it talk to that one.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { REPO, envFor, runCli, spawnCli, startEmulator, tempDir, TOKEN } from '../helpers/cli.js';
import { PG_URL, uniqueTable, withPg } from '../helpers/postgres.js';

/** The README's commands, one per shell line: comments, a trailing `&` and `npx ` taken off. */
export function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const [, block] of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of block!.split('\n')) {
      const command = line.replace(/\s+#\s.*$/, '').replace(/\s*&$/, '').trim();
      if (/^(npx )?pylon-contacts /.test(command)) commands.push(command.replace(/^npx /, ''));
    }
  }
  return commands;
}

/** A command line split as a shell splits it: words and '…' quoting. */
function argsOf(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

test('the README command parser takes the commands of shell blocks only, without comments', (t) => {
  const readme = "Text pylon-contacts x\n\n```sh\nnpx pylon-contacts emulator --seed s.json &     # until stopped\nexport A=b\npylon-contacts export 'a/dt={date}/x.csv' --to 'postgresql://h/db#contacts'   # nightly\n```\n";
  t.deepEqual(readmeCommands(readme), ['pylon-contacts emulator --seed s.json', "pylon-contacts export 'a/dt={date}/x.csv' --to 'postgresql://h/db#contacts'"]);
  t.deepEqual(argsOf("pylon-contacts export 'a/dt={date}/x.csv' --to 'postgresql://h/db#contacts'"), ['export', 'a/dt={date}/x.csv', '--to', 'postgresql://h/db#contacts']);
});

test('every pylon-contacts command of the README runs as written and does what the README says', async (t) => {
  const commands = readmeCommands(readFileSync(join(REPO, 'README.md'), 'utf8'));
  t.true(commands.length >= 15, `the README's commands: ${commands.join('\n')}`);
  const emulator = await startEmulator(t, { seedFile: join(REPO, 'samples', 'seed.json') });
  const dir = tempDir(t, 'pylon-readme-');
  // The files the commands name: contacts (Ada changed, so an undo file is written; one row invalid, for an error
  // report to import), the sample exports of HubSpot and Zendesk, a list of admins, the samples folder of a clone.
  writeFileSync(join(dir, 'contacts.csv'), 'name,email\nAda Lovelace (README),ada@acme.example\nNo Email,not-an-email\n');
  copyFileSync(join(REPO, 'samples', 'migrations', 'hubspot-contacts.csv'), join(dir, 'hubspot-contacts.csv'));
  copyFileSync(join(REPO, 'samples', 'migrations', 'zendesk-users.json'), join(dir, 'zendesk-users.json'));
  writeFileSync(join(dir, 'admins.csv'), 'email\ncharles@acme.example\n');
  mkdirSync(join(dir, 'samples'));
  for (const name of ['seed.json', 'contacts.csv']) copyFileSync(join(REPO, 'samples', name), join(dir, 'samples', name));

  const table = uniqueTable('readme_contacts');
  let env = envFor(emulator);
  let stopRehearsal: (() => Promise<void>) | undefined;
  for (const command of commands) {
    let args = argsOf(command);
    if (args[0] === 'emulator') {
      // As written but on a free port (4010 may be taken); the commands after it use it, with the token it prints.
      const started = spawnCli([...args, '--port', '0'], { cwd: dir });
      const url = await new Promise<string>((resolve) => {
        let out = '';
        started.child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const found = /PYLON_BASE_URL=(\S+)/.exec(out);
          if (found) resolve(found[1]!);
        });
        void started.result.then((r) => resolve(`(exited ${r.code}: ${r.stderr})`));
      });
      t.regex(url, /^http:\/\/127\.0\.0\.1:\d+$/, command);
      env = { PYLON_BASE_URL: url, PYLON_API_TOKEN: 'pylon-emulator-token' };
      stopRehearsal = async () => {
        started.child.kill('SIGTERM');
        t.is((await started.result).code, 0, 'the rehearsal emulator stops cleanly');
      };
      continue;
    }
    const to = args.indexOf('--to');
    if (to >= 0 && args[to + 1]!.startsWith('postgresql://')) {
      // The warehouse of the README is not here: a real PostgreSQL, in a table of this test's own.
      if (PG_URL === undefined) {
        t.log(`skipped without PostgreSQL: ${command}`);
        continue;
      }
      args = args.map((arg, i) => (i === to + 1 ? `${PG_URL}#${table}` : arg));
    }
    const run = await runCli(args, { env, cwd: dir });
    t.not(run.code, null, `${command} finished`);
    if (args.includes('--resume')) {
      // "After an interruption": there was none, so the only refusal allowed is that there is nothing to resume.
      t.regex(run.stderr, /CONFIG_RESUME_MISMATCH/, command);
    } else {
      t.not(run.code, 2, `${command}\n${run.stderr}`);
    }
    t.notRegex(run.stderr, /\n\s+at /, `${command}: no stack trace`);
    t.false((run.stdout + run.stderr).includes(TOKEN), `${command}: the token is never printed`);
    if (to >= 0) {
      // "Run the same line every night": the next night writes only what changed, by the state kept in the database.
      const night2 = await runCli(args, { env, cwd: dir });
      t.is(night2.code, 0, night2.stderr);
      t.regex(night2.stderr, /complete after \d+s, 0 rows written from \d+ contacts[\s\S]*delta since the state kept in postgresql:/, night2.stderr);
    }
  }
  await stopRehearsal?.();

  // The journeys did what the README says: Ada renamed by the import and restored by its undo file, the migration
  // imported, Charles made admin by the plan and restored by its undo file.
  t.true(readFileSync(join(dir, 'contacts.undo.csv'), 'utf8').includes('ada@acme.example'));
  t.is(emulator.store.findByEmail('ada@acme.example')?.name, 'Ada Lovelace');
  t.truthy(emulator.store.findByEmail('priya.raman@acme.example'), 'the HubSpot migration imported its contacts');
  t.is(emulator.store.findByEmail('charles@acme.example')?.portal_role, 'member', 'the undo restored the role the plan changed');
  t.true(existsSync(join(dir, 'admins.undo.csv')), 'apply wrote the undo file the README names');
  t.true(readFileSync(join(dir, 'admins.undo.csv'), 'utf8').includes('charles@acme.example'));
  t.true(existsSync(join(dir, 'contacts-export.csv')));
  const partitions = readdirSync(join(dir, 'lake', 'contacts'));
  t.true(partitions.length >= 1 && partitions.every((name) => /^dt=\d{4}-\d\d-\d\d$/.test(name)), `dated partitions: ${partitions.join(', ')}`);
  if (PG_URL !== undefined) {
    const rows = await withPg((client) => client.query(`SELECT count(*)::int AS n FROM ${table}`));
    t.is(rows.rows[0].n, emulator.store.size, 'the table holds every contact');
  }
});

/**
 * `--no-undo`: the summary never says "no contact was changed" about a run
 * that wrote fields. A row failed ROW_CANNOT_CLEAR has its other changes
 * applied (counted failed, not updated): with no undo file asked for, the
 * summary used to say none was written "since no contact was changed".
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';

for (const command of ['import', 'update'] as const) {
  test(`${command} --no-undo: a row whose clear is refused and whose name is written is not summed up as "no contact was changed"`, async (t) => {
    const em = await startEmulator(t, { emptyString: 'rejected' });
    const cy = em.store.insert({ name: 'Cy', email: 'cy@acme.example', avatar_url: 'https://cdn.example/cy.png' });
    const dir = tempDir(t, 'pylon-no-undo-');
    const input = join(dir, 'in.csv');
    writeFileSync(input, command === 'import' ? 'name,email,avatar_url\nCy New,cy@acme.example,#N/A\n' : `id,name,avatar_url\n${cy.id},Cy New,#N/A\n`);
    const env = { ...envFor(em), XDG_STATE_HOME: join(dir, 'state') };
    const result = await runCli([command, input, '--clear-token', '#N/A', '--no-undo', '--rate', FAST_RATE], { env, cwd: dir });
    t.is(result.code, 3, result.stderr);
    t.is(em.store.get(cy.id)?.name, 'Cy New', "the row's other change is written");
    const out = result.stdout + result.stderr;
    t.regex(out, /ROW_CANNOT_CLEAR|failed 1/);
    t.notRegex(out, /no contact was changed/, 'a contact was changed');
  });
}

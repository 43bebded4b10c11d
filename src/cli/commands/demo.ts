import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import type { CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { ExitError } from '../../errors.js';

interface DemoArgv {
  out: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The emulator's "minute" lasts 6 s in the demo and the client is told so: Pylon's limits and the real arithmetic, 10× faster. */
const WINDOW_MS = 6000;

/**
 * `npm start`: the whole tool end to end against the built-in emulator, no token
 * needed. Each step runs the real CLI in this process against a real HTTP server.
 */
export const demoCommand: CommandModule<object, DemoArgv> = {
  command: 'demo',
  describe: 'Run the import, export and update end to end against a local emulator (no token needed)',
  builder: (yargs) =>
    yargs.option('out', { type: 'string', default: 'demo-output', describe: 'Directory for the files the demo writes' }) as never,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const out = argv.out;
    mkdirSync(out, { recursive: true });
    // Loaded on use: the other commands never pay for the emulator's code.
    const { createEmulator } = await import('../../emulator/index.js');
    const emulator = await createEmulator({ seedFile: join(root, 'samples', 'seed.json'), rateLimits: 'spec', windowMs: WINDOW_MS });
    const say = (text: string) => ctx.stderr.write(text + '\n');
    try {
      say(`Pylon emulator at ${emulator.url}: ${emulator.store.size} contacts, rate limits of Pylon's spec with a ${WINDOW_MS / 1000}-second "minute".`);
      for (const contact of [...emulator.store.all()].slice(0, 5)) {
        say(`  ${contact.name} <${contact.email ?? ''}> ${contact.portal_role ?? ''}`);
      }
      const sample = relative(process.cwd(), join(root, 'samples', 'contacts.csv')) || 'samples/contacts.csv';
      const withErrors = relative(process.cwd(), join(root, 'samples', 'contacts-with-errors.csv'));
      const exported = join(out, 'contacts.csv');
      const steps: Array<{ title: string; args: string[]; expect: number }> = [
        { title: `Preview the import of ${sample}`, args: ['import', sample, '--dry-run', '--results', join(out, 'plan.csv'), '--errors', join(out, 'plan.errors.csv')], expect: EXIT.OK },
        { title: `Import ${sample}`, args: ['import', sample, '--results', join(out, 'results.csv'), '--errors', join(out, 'contacts.errors.csv')], expect: EXIT.OK },
        { title: `A file with mistakes: every bad row lands in the error report, nothing is written for it`, args: ['import', withErrors, '--errors', join(out, 'contacts-with-errors.errors.csv')], expect: EXIT.PARTIAL },
        { title: `Export every contact to ${exported}`, args: ['export', exported], expect: EXIT.OK },
        { title: 'Import the export again: nothing to change, no writes', args: ['import', exported, '--errors', join(out, 'reimport.errors.csv')], expect: EXIT.OK },
        { title: 'Make everyone at acme.com a portal admin (with an undo file)', args: ['update', '--where', 'email~@acme.com', '--set', 'portal_role=admin', '--max-changes', '50', '--yes', '--undo', join(out, 'admins.undo.csv'), '--errors', join(out, 'admins.errors.csv')], expect: EXIT.OK },
        { title: 'Undo it', args: ['update', join(out, 'admins.undo.csv'), '--yes', '--undo', join(out, 'admins.undo.undo.csv')], expect: EXIT.OK },
      ];
      const env = { ...ctx.env, PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: emulator.token };
      for (const [i, step] of steps.entries()) {
        say(`\n${i + 1}. ${step.title}\n   $ pylon-contacts ${step.args.join(' ')}`);
        const stepCtx: CliContext = { ...ctx, env, isTTY: false, exitCode: 0, handlerStarted: false };
        const code = await ctx.run!([...step.args, '--rate-window', String(WINDOW_MS), '--quiet'], stepCtx);
        if (code !== step.expect) throw new ExitError(EXIT.FATAL, `demo step ${i + 1} exited ${code}, expected ${step.expect}`, 'INTERNAL');
      }
      const head = readFileSync(exported, 'utf8').split('\n').slice(0, 4).join('\n');
      say(`\nFirst lines of ${exported}:\n${head}\n\nFiles written to ${out}/. Against real Pylon: export PYLON_API_TOKEN=… and run the same commands.`);
    } finally {
      await emulator.close();
    }
  },
};

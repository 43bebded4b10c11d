import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { counted } from '../../plural.js';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { contextOf } from '../args.js';
import { cwdOf, resolveFrom, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { onInterrupt } from '../interrupt.js';
import { makeOutputFolder } from '../paths.js';
import { ExitError } from '../../errors.js';
import type { SavedPlan } from '../../update/plan-file.js';

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
    yargs
      .option('out', { type: 'string', default: 'demo-output', describe: 'Folder for the files the demo writes; made if missing, inside a folder that exists' })
      .example('$0 demo', 'Every journey against a fresh local emulator, printing each command; files in demo-output/')
      .example('$0 demo --out rehearsal', 'The same, with its reports, undo files, plan, export and audit log in rehearsal/') as never,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    // Every file the demo writes goes under --out (resolved from the working directory), nowhere else.
    // The steps name their files relative to the working directory (they resolve them from it); the
    // demo's own reads and writes use the full path.
    const here = cwdOf(ctx);
    const outDir = resolveFrom(ctx, argv.out);
    // Paths are shown as typed: an absolute --out stays absolute (not `../../../tmp/x`), and so does a
    // sample file outside the working directory.
    const shown = (path: string) => {
      const near = relative(here, path);
      return near === '' ? '.' : near.startsWith('..') || isAbsolute(near) ? path : near;
    };
    const out = isAbsolute(argv.out) ? outDir : shown(outDir);
    const full = (path: string) => resolve(here, path);
    // Made if missing, in a folder that exists (OUTPUT_UNWRITABLE otherwise), before the emulator starts.
    makeOutputFolder(outDir, out, '--out');
    // A Ctrl-C anywhere in the demo ends it: the step running stops as its command does (reports
    // written, exit 130), and no later step starts. The step prints what it does; this handler
    // only records the signal (its own message would repeat the step's).
    const interrupt = onInterrupt(new Writable({ write: (_chunk, _encoding, done) => done() }));
    // Loaded on use: the other commands never pay for the emulator's code.
    const { createEmulator } = await import('../../emulator/index.js');
    const say = (text: string) => ctx.stderr.write(text + '\n');
    const interrupted = (where: string) =>
      new ExitError(EXIT.INTERRUPTED, `demo interrupted ${where}. Run it again to start over: each run starts with a fresh emulator (what an interrupted run left in ${out}/ is removed).`);
    let emulator: Awaited<ReturnType<typeof createEmulator>> | undefined;
    try {
      emulator = await createEmulator({ seedFile: join(root, 'samples', 'seed.json'), rateLimits: 'spec', windowMs: WINDOW_MS });
      say(`Pylon emulator at ${emulator.url}: ${counted(emulator.store.size, 'contact')}, rate limits of Pylon's spec with a ${WINDOW_MS / 1000}-second "minute".`);
      for (const contact of [...emulator.store.all()].slice(0, 5)) {
        say(`  ${contact.name} <${contact.email ?? ''}> ${contact.portal_role ?? ''}`);
      }
      const sample = shown(join(root, 'samples', 'contacts.csv'));
      const withErrors = shown(join(root, 'samples', 'contacts-with-errors.csv'));
      // The export is given its full path: its command reads paths from the process's folder.
      const exported = join(outDir, 'contacts.csv');
      // A migration: HubSpot's XLSX export, then its CSV export taken after three emails changed in HubSpot.
      const hubspotXlsx = shown(join(root, 'samples', 'migrations', 'hubspot-contacts.xlsx'));
      const hubspotChanged = join(out, 'hubspot-contacts-later.csv');
      writeFileSync(full(hubspotChanged), readFileSync(join(root, 'samples', 'migrations', 'hubspot-contacts.csv'), 'utf8').replaceAll('@acme.example', '@acme-corp.example'));
      const migration = ['--from', 'hubspot', '--default-country', 'US'];
      const planPath = join(out, 'admins.plan.json');
      // `bare`: a step that calls nothing (no pacing flags to pass). `journal`: the name of the
      // journal of a step that writes, kept under --out (by default a journal goes beside its input,
      // and the inputs of some steps are the repository's samples/).
      const steps: Array<{ title: string; args: string[]; expect: number; notes?: boolean; bare?: boolean; journal?: string; run?: () => void }> = [
        { title: `Preview the import of ${sample}`, args: ['import', sample, '--dry-run', '--results', join(out, 'plan.csv'), '--errors', join(out, 'plan.errors.csv')], expect: EXIT.OK },
        { title: `Import ${sample}`, args: ['import', sample, '--results', join(out, 'results.csv'), '--errors', join(out, 'contacts.errors.csv'), '--undo', join(out, 'contacts.undo.csv')], expect: EXIT.OK, journal: 'import' },
        { title: `A file with mistakes: every bad row lands in the error report, nothing is written for it`, args: ['import', withErrors, '--errors', join(out, 'contacts-with-errors.errors.csv'), '--undo', join(out, 'contacts-with-errors.undo.csv')], expect: EXIT.PARTIAL, journal: 'import-with-errors' },
        { title: `Export every contact to ${exported}`, args: ['export', exported], expect: EXIT.OK },
        { title: 'Import the export again: nothing to change, no writes', args: ['import', exported, '--errors', join(out, 'reimport.errors.csv'), '--undo', join(out, 'reimport.undo.csv')], expect: EXIT.OK, journal: 'reimport' },
        {
          title: 'Plan: make everyone at acme.com a portal admin, saved for review (nothing is written)',
          args: ['update', '--where', 'email~@acme.com', '--set', 'portal_role=admin', '--plan-out', planPath, '--errors', join(out, 'admins.plan.errors.csv')],
          expect: EXIT.OK,
        },
        { title: 'Review the plan: each contact before → after, the totals, the target, its age and the ETA of applying it', args: ['show', planPath, '--rate-window', String(WINDOW_MS)], expect: EXIT.OK, bare: true },
        {
          title: 'Meanwhile a colleague changes one of its contacts in Pylon',
          args: [],
          expect: EXIT.OK,
          run: () => {
            const plan = JSON.parse(readFileSync(full(planPath), 'utf8')) as SavedPlan;
            const victim = plan.changes[0];
            const from = victim?.changes.find((ch) => ch.column === 'portal_role')?.from;
            if (victim) {
              const other = ['member', 'no_access', 'admin'].find((r) => r !== from && r !== 'admin')!;
              emulator!.store.update(victim.id, { portal_role: other as 'member' });
              say(`   meanwhile ${victim.email ?? victim.id} is changed to ${other} by someone else`);
            }
          },
        },
        {
          title: 'Apply exactly the reviewed plan (with an undo file): the contact changed since is left as it is (ROW_DRIFTED, exit 3)',
          args: ['apply', planPath, '--yes', '--undo', join(out, 'admins.undo.csv'), '--errors', join(out, 'admins.errors.csv')],
          expect: EXIT.PARTIAL,
          journal: 'apply',
        },
        {
          title: 'Undo it: each field goes back only where it still holds the value the plan set',
          args: ['update', join(out, 'admins.undo.csv'), '--yes', '--undo', join(out, 'admins.undo.undo.csv'), '--errors', join(out, 'undo.errors.csv')],
          expect: EXIT.OK,
          journal: 'undo',
        },
        {
          title: `Migrate from HubSpot: preview its XLSX export (names joined, phones in E.164, the HubSpot id kept, accounts matched by company name, the missing ones listed)`,
          args: ['import', hubspotXlsx, ...migration, '--create-accounts', '--dry-run', '--results', join(out, 'hubspot.plan.csv'), '--errors', join(out, 'hubspot.plan.errors.csv')],
          expect: EXIT.OK,
          notes: true,
        },
        { title: 'Migrate it, creating the accounts the preview listed as missing', args: ['import', hubspotXlsx, ...migration, '--create-accounts', '--errors', join(out, 'hubspot.errors.csv'), '--undo', join(out, 'hubspot.undo.csv')], expect: EXIT.OK, notes: true, journal: 'hubspot' },
        {
          title: `Three emails changed in HubSpot since: import the later CSV export; matched by HubSpot id, nothing is created`,
          args: ['import', hubspotChanged, ...migration, '--results', join(out, 'hubspot-later.results.csv'), '--errors', join(out, 'hubspot-later.errors.csv'), '--undo', join(out, 'hubspot-later.undo.csv')],
          expect: EXIT.OK,
          journal: 'hubspot-later',
        },
      ];
      // Undo files (every writing import keeps one, beside its other outputs under --out) are never
      // overwritten, and a journal left by an interrupted demo belongs to an emulator that is gone (its
      // store lived in memory): a demo run again starts from a clean output directory. Only the files
      // the demo names are removed (and the sidecars of its journals).
      const journals = steps.flatMap((step) => (step.journal ? [`${step.journal}.journal.`] : []));
      for (const name of readdirSync(outDir)) {
        if (/^admins\.(undo|plan|errors)/.test(name) || /\.undo(-\d+)?\.csv$/.test(name) || name.startsWith('.admins.') || journals.some((prefix) => name.startsWith(prefix))) rmSync(join(outDir, name), { force: true });
      }
      const auditLog = join(outDir, 'audit.jsonl');
      const env = { ...ctx.env, PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: emulator.token, PYLON_AUDIT_LOG: auditLog };
      for (const [i, step] of steps.entries()) {
        if (interrupt.signal.aborted) throw interrupted(i === 0 ? 'before its first step' : `after step ${i}`);
        say(`\n${i + 1}. ${step.title}${step.args.length > 0 ? `\n   $ pylon-contacts ${step.args.join(' ')}` : ''}`);
        if (step.run) {
          step.run();
          continue;
        }
        const stepCtx: CliContext = { ...ctx, env, isTTY: false, exitCode: 0, handlerStarted: false };
        const journal = step.journal ? ['--journal', join(out, `${step.journal}.journal.jsonl`)] : [];
        const code = await ctx.run!(step.bare ? step.args : [...step.args, ...journal, '--rate-window', String(WINDOW_MS), ...(step.notes ? [] : ['--quiet'])], stepCtx);
        if (code === EXIT.INTERRUPTED || interrupt.signal.aborted) throw interrupted(`at step ${i + 1}`);
        if (code !== step.expect) throw new ExitError(EXIT.FATAL, `demo step ${i + 1} exited ${code}, expected ${step.expect}`, 'INTERNAL');
      }
      const records = existsSync(auditLog) ? readFileSync(auditLog, 'utf8').trim().split('\n').length : 0;
      say(`\nAudit log: ${auditLog} (${counted(records, 'record')}: who, where, what and when, for every run that wrote)`);
      const head = readFileSync(exported, 'utf8').split('\n').slice(0, 4).join('\n');
      say(`\nFirst lines of ${exported}:\n${head}\n\nFiles written to ${out}/. Against real Pylon: export PYLON_API_TOKEN=… and run the same commands.`);
    } finally {
      await emulator?.close();
      interrupt.dispose();
    }
  },
};

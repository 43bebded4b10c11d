/**
 * Ctrl-C handling shared by the long-running commands. The first SIGINT/SIGTERM
 * aborts the returned signal: the command stops reading, lets requests in flight
 * finish, writes its reports and exits 130. A second one exits at once, except in a
 * run that writes contacts (`finishStop`): there it is absorbed, since quitting would
 * lose the summary and the audit record (and the journal's last lines) of writes
 * already made; the stop ends on its own within the request timeout.
 *
 * After `dispose()` (the run has finished: its outputs are published or not, its
 * exit code decided) a signal must not end the process by the signal's default
 * action: a shell would see 130 for a run that completed (a DuckDB load's
 * teardown, or the summary being printed, takes long enough for a late Ctrl-C to
 * land). The first such signal is ignored and the process ends with the run's
 * own exit code; a second one quits at once, with that code. Its message goes to
 * the stderr the finished run was given (the run context's), like the run's own.
 */
export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
  /**
   * The run has reached a step it finishes whatever comes (`what`: an export's COMMIT, its outputs already in place):
   * a first signal from now on says so and aborts nothing, and the run ends with its own exit code. `interruptedDuring`
   * then names the signal, for the summary.
   */
  committing(what: string): void;
  /** The signal that came while `committing` (undefined: none). */
  readonly interruptedDuring: { signal: NodeJS.Signals; what: string } | undefined;
}

/** Runs with a live handler; while none is live, signals go to `afterRun`. */
let live = 0;
let afterRunInstalled = false;
let lateSignals = 0;
/** The stderr of the run that finished last: the late message goes where its own messages went (the run context's stream). */
let lateStderr: NodeJS.WritableStream = process.stderr;

function afterRun(sig: NodeJS.Signals): void {
  if (live > 0) return;
  lateSignals += 1;
  if (lateSignals === 1) lateStderr.write(`\n${sig}: the run had already finished; exiting with its own exit code (press Ctrl-C again to quit at once)\n`);
  else process.exit(process.exitCode ?? 0);
}

export function onInterrupt(stderr: NodeJS.WritableStream = process.stderr, options: { finishStop?: boolean } = {}): Interrupt {
  const controller = new AbortController();
  let count = 0;
  let committing: string | undefined;
  let interruptedDuring: Interrupt['interruptedDuring'];
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1 && committing !== undefined && !controller.signal.aborted) {
      interruptedDuring = { signal: sig, what: committing };
      stderr.write(`\n${sig}: ${committing} is under way, every output already in place: it is not stopped, and the run ends complete with its own exit code once it is done (press Ctrl-C again to quit at once: the next run then settles the outputs by whether it went through)\n`);
    } else if (count === 1) {
      const then = options.finishStop ? 'the journal, reports and audit record, then exiting (130)' : 'reports (press Ctrl-C again to quit at once)';
      stderr.write(`\n${sig}: finishing requests in flight and writing ${then}\n`);
      controller.abort(new Error(`interrupted by ${sig}`));
    } else if (!options.finishStop) {
      process.exit(130);
    } else if (count === 2) {
      stderr.write(`\n${sig} again: still stopping; each request in flight ends within --timeout, and the journal, summary and audit record are written before the run exits 130 (--resume then continues it)\n`);
    }
  };
  live += 1;
  lateSignals = 0;
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  let disposed = false;
  return {
    signal: controller.signal,
    committing(what) {
      committing = what;
    },
    get interruptedDuring() {
      return interruptedDuring;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      lateStderr = stderr;
      // One process-wide handler (installed once) takes over before this one goes, so no signal finds none.
      if (!afterRunInstalled) {
        afterRunInstalled = true;
        process.on('SIGINT', afterRun);
        process.on('SIGTERM', afterRun);
      }
      live -= 1;
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

let beforeRunInstalled = false;

/**
 * Ctrl-C while the process is still starting (loading its modules, reading its
 * flags: about half a second), before any run's handler is live. Without a
 * handler the signal's default action ended the process silently. This one
 * says what happened and exits 130, the code of an interrupted run. It acts only
 * while it is the sole listener: a run's handler, the emulator's, or the one
 * that takes over after a run (afterRun) each decide for themselves.
 */
export function interruptBeforeRun(stderr: NodeJS.WritableStream = process.stderr): void {
  if (beforeRunInstalled) return;
  beforeRunInstalled = true;
  const handler = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    const message = `${sig}: stopped while starting, before anything was sent to Pylon or written`;
    stderr.write(`\n${message} (exit 130)\n`);
    // --json promises an object on stdout for a run-level error (cli/index.ts): the same one here.
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: { code: 'RUN_ABORTED', message, exitCode: 130 } }) + '\n');
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

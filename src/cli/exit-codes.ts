/** The exit-code contract, documented in the README. */
export const EXIT = {
  /** Every row created, updated, unchanged or skipped on purpose; export complete. */
  OK: 0,
  /** Fatal: authentication, network, server, or an export that could not complete. */
  FATAL: 1,
  /** Bad usage or configuration: nothing was written. */
  USAGE: 2,
  /** The run finished but some rows failed; they are in the error report. */
  PARTIAL: 3,
  /** Interrupted (Ctrl-C / SIGTERM); reports and journal were flushed. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Ctrl-C handling shared by the long-running commands. The first SIGINT/SIGTERM
 * aborts the returned signal: the command stops reading, lets requests in flight
 * finish, writes its reports and exits 130. A second one exits at once.
 */
export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(stderr: NodeJS.WritableStream = process.stderr): Interrupt {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      stderr.write(`\n${sig}: finishing requests in flight and writing reports (press Ctrl-C again to quit at once)\n`);
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

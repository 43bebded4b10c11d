/**
 * Imported first by the executable (bin.ts), so that a Ctrl-C during start-up
 * (while the rest of the CLI's modules load) finds a handler (interrupt.ts).
 */
import { interruptBeforeRun } from './interrupt.js';

interruptBeforeRun();

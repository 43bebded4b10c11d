#!/usr/bin/env node
// First: a Ctrl-C while the other modules load gets a message and exit 130, not a silent death.
import './cli/early-interrupt.js';
import { hideBin } from './cli/yargs.js';
import { runCli } from './cli/index.js';
import { processContext } from './cli/context.js';

// The exit code goes to the process here and nowhere else; the process ends when its work is done (stdout drained).
const code = await runCli(hideBin(process.argv), processContext());
process.exitCode = code;

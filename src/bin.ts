#!/usr/bin/env node
import { hideBin } from './cli/yargs.js';
import { runCli } from './cli/index.js';
import { processContext } from './cli/context.js';

// The exit code goes to the process here and nowhere else; the process ends when its work is done (stdout drained).
const code = await runCli(hideBin(process.argv), processContext());
process.exitCode = code;

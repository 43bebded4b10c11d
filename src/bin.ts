#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { runCli } from './cli/index.js';
import { processContext } from './cli/context.js';

// The only place that ends the process. Let stdout drain before exiting.
const code = await runCli(hideBin(process.argv), processContext());
process.exitCode = code;

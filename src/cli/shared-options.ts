import type { Options } from 'yargs';
import type { ConnectionOptionsInput } from '../config.js';

/** Flags every command that talks to Pylon shares: the connection (resolved in src/config.ts) and how the summary is printed. */
export const apiCommandFlags = {
  'base-url': {
    type: 'string',
    describe: 'Pylon API base URL (env PYLON_BASE_URL). Plain http is refused except on loopback',
    defaultDescription: 'https://api.usepylon.com',
  },
  region: {
    type: 'string',
    choices: ['us', 'eu'],
    describe: 'Use the US or EU API host (ignored when --base-url is given)',
  },
  token: {
    type: 'string',
    describe: 'API token (env PYLON_API_TOKEN; prefer the env var: flags show up in ps). Never printed',
  },
  concurrency: {
    type: 'number',
    describe: 'Most requests in flight at once (export: above 1, the next page is fetched while this one is written)',
    default: 4,
  },
  rate: {
    type: 'string',
    describe: 'Client-side pacing per endpoint, requests per --rate-window (a minute by default), e.g. create=60,patch=60,search=20,list=60',
  },
  'rate-window': {
    type: 'number',
    describe: 'Length of the rate-limit window --rate counts in, ms (Pylon: a minute; match the emulator\'s --window-ms)',
    default: 60000,
  },
  timeout: {
    type: 'number',
    describe: 'Per-request timeout in milliseconds',
    default: 30000,
  },
  json: {
    type: 'boolean',
    describe: 'Print a machine-readable summary on stdout',
    default: false,
  },
  quiet: {
    type: 'boolean',
    alias: 'q',
    describe: 'No progress output on stderr (the summary is still printed)',
    default: false,
  },
} satisfies Record<string, Options>;

export interface ApiCommandArgv {
  baseUrl?: string;
  region?: string;
  token?: string;
  concurrency?: number;
  rate?: string;
  rateWindow?: number;
  timeout?: number;
  json?: boolean;
  quiet?: boolean;
}

/** The connection part of a command's options, from its flags and the environment. */
export function connectionInput(argv: ApiCommandArgv, env: NodeJS.ProcessEnv): ConnectionOptionsInput {
  return {
    baseUrl: argv.baseUrl,
    region: argv.region,
    token: argv.token,
    env,
    concurrency: argv.concurrency,
    rate: argv.rate,
    rateWindowMs: argv.rateWindow,
    timeoutMs: argv.timeout,
  };
}

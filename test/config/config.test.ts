import test from 'ava';
import { redact, resolveBaseUrl, resolveConnectionOptions, resolveRates, DEFAULT_RATES } from '../../src/config.js';
import { resolveImportOptions } from '../../src/import/options.js';
import { ConfigError, type ErrorCode } from '../../src/errors.js';

const env = { PYLON_API_TOKEN: 'tok-123456' } as NodeJS.ProcessEnv;

const baseUrls: Array<[string, Parameters<typeof resolveBaseUrl>[0], string]> = [
  ['default host', { env: {} }, 'https://api.usepylon.com'],
  ['env', { env: { PYLON_BASE_URL: 'https://api.eu.usepylon.com/' } }, 'https://api.eu.usepylon.com'],
  ['flag wins over env', { baseUrl: 'https://example.test', env: { PYLON_BASE_URL: 'https://other.test' } }, 'https://example.test'],
  ['--region eu', { region: 'eu', env: {} }, 'https://api.eu.usepylon.com'],
  ['--region eu with a PYLON_BASE_URL of the same host', { region: 'eu', env: { PYLON_BASE_URL: 'https://api.eu.usepylon.com/' } }, 'https://api.eu.usepylon.com'],
  ['--region with a --base-url of the same host', { region: 'eu', baseUrl: 'https://api.eu.usepylon.com/', env: {} }, 'https://api.eu.usepylon.com'],
  ['loopback http is allowed', { baseUrl: 'http://localhost:4010', env: {} }, 'http://localhost:4010'],
  ['IPv6 loopback', { baseUrl: 'http://[::1]:4010', env: {} }, 'http://[::1]:4010'],
];
for (const [title, input, expected] of baseUrls) {
  test(`base URL: ${title}`, (t) => t.is(resolveBaseUrl(input), expected));
}

const refused: Array<[string, Parameters<typeof resolveBaseUrl>[0], ErrorCode, RegExp]> = [
  ['plain http to a remote host', { baseUrl: 'http://api.usepylon.com', env: {} }, 'CONFIG_INSECURE_URL', /unencrypted/],
  ['not a URL', { baseUrl: 'api.usepylon.com', env: {} }, 'CONFIG_INVALID_OPTION', /Invalid option `--base-url`: expected an absolute http\(s\) URL \(did you mean https:\/\/api\.usepylon\.com\?\), got "api.usepylon.com"/],
  ['another scheme', { baseUrl: 'ftp://x.test', env: {} }, 'CONFIG_INVALID_OPTION', /expected an http\(s\) URL/],
  ['credentials in the URL', { baseUrl: 'https://user:secret@x.test', env: {} }, 'CONFIG_INVALID_OPTION', /without credentials/],
  ['unknown region', { region: 'apac', env: {} }, 'CONFIG_INVALID_OPTION', /--region.*one of us, eu.*"apac"/],
  // --region no longer overrides a PYLON_BASE_URL naming another host silently: both are named (credentials left out).
  [
    '--region and a PYLON_BASE_URL of another host',
    { region: 'eu', env: { PYLON_BASE_URL: 'http://user:secret@127.0.0.1:4010/' } },
    'CONFIG_INVALID_OPTION',
    /^--region eu \(https:\/\/api\.eu\.usepylon\.com\) and PYLON_BASE_URL \(http:\/\/127\.0\.0\.1:4010\) name different hosts: give one of them \(unset PYLON_BASE_URL, or drop --region\)\.$/,
  ],
  // Nor does --base-url silently win over --region when they name different hosts (it used to ignore --region).
  [
    '--region and a --base-url of another host',
    { region: 'eu', baseUrl: 'http://127.0.0.1:4010', env: {} },
    'CONFIG_INVALID_OPTION',
    /^--region eu \(https:\/\/api\.eu\.usepylon\.com\) and --base-url \(http:\/\/127\.0\.0\.1:4010\) name different hosts: give one of them \(drop --base-url, or drop --region\)\.$/,
  ],
  [
    '--region us and a --base-url of the EU host',
    { region: 'us', baseUrl: 'https://api.eu.usepylon.com', env: { PYLON_BASE_URL: 'https://api.usepylon.com' } },
    'CONFIG_INVALID_OPTION',
    /^--region us \(https:\/\/api\.usepylon\.com\) and --base-url \(https:\/\/api\.eu\.usepylon\.com\) name different hosts/,
  ],
];
for (const [title, input, code, message] of refused) {
  test(`base URL refused: ${title}`, (t) => {
    const error = t.throws(() => resolveBaseUrl(input), { instanceOf: ConfigError });
    t.is(error?.code, code);
    t.regex(error!.message, message);
    t.false(error!.message.includes('secret'), 'credentials are not echoed');
  });
}

test('token: flag, then env; missing is a usage error', (t) => {
  t.is(resolveConnectionOptions({ env }).token, 'tok-123456');
  t.is(resolveConnectionOptions({ env, token: 'flag-token' }).token, 'flag-token');
  const error = t.throws(() => resolveConnectionOptions({ env: {} }), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_MISSING_TOKEN');
});

test('rates: defaults, overrides, and every mistake named', (t) => {
  t.deepEqual(resolveRates(undefined), DEFAULT_RATES);
  t.like(resolveRates('create=30, patch=120'), { create: 30, patch: 120, search: 20 });
  t.throws(() => resolveRates('creat=30'), { message: /Invalid option `--rate`: expected endpoint names from list, get, .*got "creat"/ });
  t.throws(() => resolveRates('create=0'), { message: /a positive number of requests per minute for create, got "0"/ });
  t.throws(() => resolveRates('create'), { message: /--rate/ });
});

test('connection defaults and bounds', (t) => {
  t.like(resolveConnectionOptions({ env }), { concurrency: 4, timeoutMs: 30_000, rateWindowMs: 60_000, baseUrl: 'https://api.usepylon.com' });
  t.throws(() => resolveConnectionOptions({ env, concurrency: 0 }), { message: 'Invalid option `--concurrency`: expected an integer from 1 to 64, got 0' });
  t.throws(() => resolveConnectionOptions({ env, concurrency: 2.5 }), { message: /--concurrency/ });
});

test('import options: defaults beside the input, validated choices', (t) => {
  const options = resolveImportOptions({ input: 'data/contacts.csv', env });
  t.like(options, {
    mode: 'upsert',
    dryRun: false,
    errorsPath: 'data/contacts.errors.csv',
    journalPath: 'data/.contacts.journal.jsonl',
    onDuplicate: 'first',
    lookup: 'auto',
    lookupBatch: 100,
  });
  t.is(resolveImportOptions({ input: 'c.csv', env, dryRun: true }).journalPath, undefined, 'a dry run keeps no journal');
  t.is(resolveImportOptions({ input: 'c.csv', env, delimiter: 'tab' }).delimiter, '\t');
  t.throws(() => resolveImportOptions({ input: 'c.csv', env, mode: 'merge' }), { message: 'Invalid option `--mode`: expected one of upsert, create, update, got "merge"' });
  t.throws(() => resolveImportOptions({ input: 'c.csv', env, delimiter: '::' }), { message: /--delimiter/ });
  t.throws(() => resolveImportOptions({ input: 'c.csv', env, resume: true, dryRun: true }), { message: /cannot be combined/ });
  t.throws(() => resolveImportOptions({ input: '-', env, resume: true }), { message: /stdin cannot be read again/ });
  t.throws(() => resolveImportOptions({ input: 'c.csv', env, clearToken: ' ' }), { message: /--clear-token/ });
});

test('redact replaces every occurrence of the token', (t) => {
  t.is(redact('Bearer tok-123456 and tok-123456', 'tok-123456'), 'Bearer [REDACTED] and [REDACTED]');
  t.is(redact('nothing here', undefined), 'nothing here');
});

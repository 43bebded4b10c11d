/**
 * The emulator's address typed without its scheme (`--base-url 127.0.0.1:4010`, `PYLON_BASE_URL=localhost:4010`),
 * as a newcomer copies it from the emulator's banner: refused before any call (exit 2) with the URL it means,
 * http for a loopback host and https for any other. Before, the message said only "expected an absolute http(s)
 * URL" (or, for `localhost:4010`, which parses as a scheme, "an http(s) URL").
 */
import test from 'ava';
import { runCli, startEmulator, TOKEN } from '../helpers/cli.js';

test('a base URL without its scheme names the URL it means, and that URL works', async (t) => {
  const emulator = await startEmulator(t);
  const port = new URL(emulator.url).port;
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--base-url', `127.0.0.1:${port}`], {}, new RegExp(`^pylon-contacts: Invalid option \`--base-url\`: expected an absolute http\\(s\\) URL \\(did you mean http://127\\.0\\.0\\.1:${port}\\?\\), got "127\\.0\\.0\\.1:${port}"\\n`)],
    [['--base-url', `localhost:${port}`], {}, new RegExp(`^pylon-contacts: Invalid option \`--base-url\`: expected an absolute http\\(s\\) URL \\(did you mean http://localhost:${port}\\?\\)`)],
    [['--base-url', 'api.eu.usepylon.com'], {}, /\(did you mean https:\/\/api\.eu\.usepylon\.com\?\)/],
    // IPv6 loopback in brackets, as URLs write it: http, and the port and path kept.
    [['--base-url', `[::1]:${port}`], {}, new RegExp(`^pylon-contacts: Invalid option \`--base-url\`: expected an absolute http\\(s\\) URL \\(did you mean http://\\[::1\\]:${port}\\?\\), got "\\[::1\\]:${port}"\\n`)],
    [[], { PYLON_BASE_URL: `[::1]:${port}/api` }, new RegExp(`\\(did you mean http://\\[::1\\]:${port}/api\\?\\)\\n`)],
    // The address of an emulator listening on every interface (--host 0.0.0.0): reached through loopback, over http.
    [['--base-url', `0.0.0.0:${port}`], {}, new RegExp(`\\(did you mean http://127\\.0\\.0\\.1:${port}\\?\\), got "0\\.0\\.0\\.0:${port}"\\n`)],
    [[], { PYLON_BASE_URL: `localhost:${port}` }, new RegExp(`^pylon-contacts: PYLON_BASE_URL is not an absolute http\\(s\\) URL: "localhost:${port}" \\(did you mean http://localhost:${port}\\?\\)\\n`)],
  ];
  for (const [flags, env, message] of cases) {
    const run = await runCli(['export', '-', ...flags], { env: { PYLON_API_TOKEN: TOKEN, ...env } });
    t.is(run.code, 2, run.stderr);
    t.regex(run.stderr, message);
    t.regex(run.stderr, /pylon-contacts: error CONFIG_INVALID_OPTION \(exit 2; see docs\/errors\.md\)\n$/);
    t.false(run.stderr.includes(TOKEN));
  }
  t.is(emulator.stats().requests.list ?? 0, 0, 'nothing was sent');
  // The URL suggested is the one that works.
  const ok = await runCli(['export', '-', '--base-url', `http://localhost:${port}`, '--quiet'], { env: { PYLON_API_TOKEN: TOKEN } });
  t.is(ok.code, 0, ok.stderr);
});

test('a base URL with credentials and no scheme never shows them (user:password@host reads as a scheme)', async (t) => {
  const secret = 'pw-9f3c1a7e';
  const cases: Array<[string[], Record<string, string>]> = [
    [['--base-url', `user:${secret}@example.com`], {}],
    [['--base-url', `user:${secret}@127.0.0.1:4010`], {}],
    [['--base-url', `ftp://user:${secret}@example.com/x`], {}],
    [[], { PYLON_BASE_URL: `user:${secret}@localhost:4010` }],
    [['--region', 'eu'], { PYLON_BASE_URL: `user:${secret}@localhost:4010` }],
  ];
  for (const [flags, env] of cases) {
    const run = await runCli(['export', '-', ...flags], { env: { PYLON_API_TOKEN: TOKEN, ...env } });
    t.is(run.code, 2, run.stderr);
    t.false(run.stderr.includes(secret), run.stderr);
    t.false(run.stdout.includes(secret), run.stdout);
    t.regex(run.stderr, /…@/, 'the message still shows the host, with the credentials cut out');
  }
});

/**
 * A token holding a character an HTTP header cannot carry (typographic quotes pasted from a
 * document around it) is refused before any call, as a usage error that names the character's
 * place and kind and never the token; before, Node refused every attempt and the run retried
 * for a minute and reported a lost connection.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createPylonClient } from '../../src/pylon/client.js';
import { resolveImportOptions } from '../../src/import/options.js';
import { contactsCsv, runCli, startEmulator, tempDir } from '../helpers/cli.js';

const SECRET = 'pylon-emulator-token';
const QUOTED = `\u201c${SECRET}\u201d`;

test('a token in typographic quotes: exit 2 at once, no call, the position and kind named, the token never shown', async (t) => {
  const emulator = await startEmulator(t, { tokens: [SECRET] });
  const dir = tempDir(t);
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, contactsCsv(2));
  const runs = [
    { args: ['import', file, '--json'], env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: QUOTED }, source: 'PYLON_API_TOKEN' },
    { args: ['import', file, '--token', QUOTED], env: { PYLON_BASE_URL: emulator.url }, source: '--token' },
    { args: ['export', join(dir, 'out.csv')], env: { PYLON_BASE_URL: emulator.url, PYLON_API_TOKEN: QUOTED }, source: 'PYLON_API_TOKEN' },
  ];
  for (const { args, env, source } of runs) {
    const result = await runCli(args, { env });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, new RegExp(`The API token \\(${source}\\) holds a character that cannot be sent in an HTTP header: character 1 of 22 is a typographic quote \\(U\\+201C\\)`));
    t.false(result.stderr.includes(SECRET) || result.stdout.includes(SECRET), result.stderr);
    t.notRegex(result.stderr, /ERR_INVALID_CHAR|retries/);
  }
  t.is(Object.values(emulator.stats().requests).reduce((a, b) => a + b, 0), 0, 'no request reached the server');
});

test('library: resolveImportOptions and createPylonClient refuse such a token with a ConfigError', (t) => {
  t.throws(() => resolveImportOptions({ input: 'x.csv', baseUrl: 'http://127.0.0.1:4010', token: `abc\u2028def` }), { name: 'ConfigError', code: 'CONFIG_INVALID_OPTION', message: /character 4 of 7 is a character outside Latin-1 \(U\+2028\)/ });
  t.throws(() => createPylonClient({ baseUrl: 'http://127.0.0.1:4010', token: `ab\ncd` }), { name: 'ConfigError', message: /character 3 of 5 is a control character \(U\+000A, a line break\)/ });
});

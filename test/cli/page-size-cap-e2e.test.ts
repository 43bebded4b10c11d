/**
 * A server whose page maximum is below the 999 Pylon's docs allow
 * (`--max-page-size 100`: "400 limit must be between 1 and 100"): import (list
 * and search lookups), update --where and export step the page size down to
 * the maximum the message names, say so once, and read every contact.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_RATE, envFor, runCli, startEmulator, tempDir } from '../helpers/cli.js';
import { seedContacts } from '../update/seed.js';

const FAST = ['--rate', FAST_RATE, '--concurrency', '4'];
const NOTE = /GET \/contacts refused a page of 999 \(400: limit must be between 1 and 100\); asking for 100 a page from now on/;

test('--max-page-size 100: import by list and by search, update --where and export go on with 100 a page', async (t) => {
  const emulator = await startEmulator(t, { maxPageSize: 100 });
  seedContacts(emulator.store, 300);
  const dir = tempDir(t);
  const env = envFor(emulator);
  const all = [...emulator.store.all()];

  const input = join(dir, 'in.csv');
  writeFileSync(input, ['email,portal_role', ...all.map((c) => `${c.email},admin`)].join('\n') + '\n');
  const byList = await runCli(['import', input, '--lookup', 'list', ...FAST], { env, cwd: dir });
  t.is(byList.code, 0, byList.stderr);
  t.regex(byList.stderr, NOTE);
  t.is(byList.stderr.match(/refused a page of/g)?.length, 1, 'said once');
  t.regex(byList.stderr, /created 0, updated \d+/);
  t.true([...emulator.store.all()].every((c) => c.portal_role === 'admin'));

  writeFileSync(input, ['email,portal_role', ...all.map((c) => `${c.email},member`)].join('\n') + '\n');
  const bySearch = await runCli(['import', input, '--lookup', 'search', ...FAST], { env, cwd: dir });
  t.is(bySearch.code, 0, bySearch.stderr);
  t.regex(bySearch.stderr, /POST \/contacts\/search refused a page of \d+ \(400: limit must be between 1 and 100\)/);
  t.regex(bySearch.stderr, /created 0, updated 300/);

  const where = await runCli(['update', '--where', 'email~@acme', '--set', 'portal_role=no_access', ...FAST], { env, cwd: dir });
  t.is(where.code, 0, where.stderr);
  const acme = all.filter((c) => c.email!.includes('@acme'));
  t.true(acme.length > 100);
  t.regex(where.stderr, new RegExp(`updated ${acme.length}\\b`));

  const out = join(dir, 'out.csv');
  const exported = await runCli(['export', out, ...FAST], { env, cwd: dir });
  t.is(exported.code, 0, exported.stderr);
  t.regex(exported.stderr, NOTE);
  t.is(readFileSync(out, 'utf8').trim().split('\n').length, 301, 'every contact exported');
});

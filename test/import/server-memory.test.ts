import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerMemory } from '../../src/import/clears.js';
import { partialPathFor } from '../../src/output/output-file.js';

test('servers.json: what a host showed is saved through a partial sibling, and the partial a killed save left is swept by the next run', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-server-memory-'));
  const path = join(dir, 'servers.json');
  const first = new ServerMemory('api.example', path);
  first.learn([{ field: 'avatar_url', general: 'Pylon refused ""' }], (message) => t.fail(message));
  t.regex(first.known('avatar_url')!.reason, /Pylon refused ""/);
  t.deepEqual(readdirSync(dir), ['servers.json'], 'no temporary file is left by a save');
  // A save killed between its write and its rename: the partial of a process that has exited.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const stale = partialPathFor(path, dead);
  writeFileSync(stale, '{"half":');
  const next = new ServerMemory('api.example', path);
  t.false(existsSync(stale), 'the dead run\'s partial is removed');
  t.truthy(next.known('avatar_url'), 'what the earlier run saved is read');
  t.true(JSON.parse(readFileSync(path, 'utf8'))['api.example'].avatar_url.reason.includes('refused'));
});

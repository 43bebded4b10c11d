import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mergeEarlierUndo, setAsideEarlierUndo } from '../../src/run/undo-file.js';
import { partialPathFor } from '../../src/output/output-file.js';

/** The id of a process that has ended (a killed run's temporary file carries its writer's pid). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'pylon-undo-file-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('nothing earlier: nothing set aside', async (t) => {
  t.is(await setAsideEarlierUndo(join(dir(t), 'x.undo.csv')), undefined);
});

test('a committed undo file and a killed run\'s .partial are set aside together, the torn last row dropped', async (t) => {
  const path = join(dir(t), 'x.undo.csv');
  writeFileSync(path, 'id,email,portal_role\nc1,a@x.com,member\nc2,b@x.com,no_access\n');
  const partial = partialPathFor(path, deadPid());
  writeFileSync(partial, 'id,email,portal_role\nc3,"c,1@x.com",admin\nc4,d@x.com,mem');
  const aside = await setAsideEarlierUndo(path);
  t.is(aside, `${path}.earlier`);
  t.false(existsSync(path));
  t.false(existsSync(partial));
  t.is(readFileSync(aside!, 'utf8'), 'id,email,portal_role\nc1,a@x.com,member\nc2,b@x.com,no_access\nc3,"c,1@x.com",admin\n');

  // This run changed other columns: the merged file has them all, earlier rows first.
  writeFileSync(path, 'id,email,custom.tier\nc5,e@x.com,#N/A\n');
  await mergeEarlierUndo(aside!, path);
  t.false(existsSync(aside!));
  t.is(readFileSync(path, 'utf8'), [
    'id,email,portal_role,custom.tier',
    'c1,a@x.com,member,',
    'c2,b@x.com,no_access,',
    'c3,"c,1@x.com",admin,',
    'c5,e@x.com,,#N/A',
    '',
  ].join('\n'));
});

test('a run that wrote no undo file gets the earlier rows back as they were', async (t) => {
  const path = join(dir(t), 'y.undo.csv');
  writeFileSync(path, 'id,email,portal_role\nc1,a@x.com,member\n');
  const aside = await setAsideEarlierUndo(path);
  await mergeEarlierUndo(aside!, path);
  t.is(readFileSync(path, 'utf8'), 'id,email,portal_role\nc1,a@x.com,member\n');
});

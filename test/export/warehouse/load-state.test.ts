import test from 'ava';
import { join } from 'node:path';
import { openLoader } from '../../../src/export/load/loader.js';
import { parseLoadTarget } from '../../../src/export/load/target.js';
import { typedColumns, type TypedRow } from '../../../src/export/schema.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import { tempDir } from '../helpers.js';

const columns = typedColumns([
  { name: 'id', multi: false },
  { name: 'name', multi: false },
]);

async function night(to: string, dir: string, runId: string, rows: TypedRow[], state: Buffer | undefined, outcome: 'commit' | 'abort') {
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  const before = await loader.readState();
  await loader.add(rows, rows.map((r) => `h-${String(r[1])}`));
  await loader.merge({ runId, extractedAt: '2026-12-04T02:00:00.000Z', hardDelete: false });
  if (state) await loader.writeState(state);
  if (outcome === 'commit') await loader.commit();
  else await loader.abort();
  return before;
}

async function stateNights(t: import('ava').ExecutionContext, to: string) {
  const dir = await tempDir();
  const first = Buffer.from('state of night 1\n\u0000binary ok');
  t.is(await night(to, dir, 'n1', [['a', 'Ada']], first, 'commit'), undefined, 'no state before the first load');
  // A load that writes its state and then fails: neither the rows nor the state change.
  t.deepEqual(await night(to, dir, 'n2', [['a', 'Ada'], ['b', 'Bob']], Buffer.from('state of night 2'), 'abort'), first);
  t.deepEqual(await night(to, dir, 'n3', [['a', 'Ada']], undefined, 'commit'), first, 'the failed night left the committed state');
  // writeState outside the merge's transaction is refused.
  const loader = await openLoader({ target: parseLoadTarget(to), columns, allowSchemaChange: false, tempDir: dir });
  try {
    const error = await t.throwsAsync(loader.writeState(Buffer.from('x')));
    t.regex(error!.message, /inside the merge transaction/);
  } finally {
    await loader.abort();
  }
}

test('duckdb: readState()/writeState() keep the pipeline state in _pylon_state, committed with the merge or not at all', async (t) => {
  await stateNights(t, `duckdb:${join(await tempDir(), 's.duckdb')}`);
});

pgTest(`postgres: readState()/writeState() keep the pipeline state in _pylon_state, committed with the merge or not at all${PG_SKIP_NOTE}`, async (t) => {
  await stateNights(t, `${PG_URL}#${uniqueTable('state')}`);
});

/**
 * A load read the table's column names (`_pylon_columns`, which field each
 * custom column holds) on a connection of its own before it opened the load's:
 * two connections to the database per run. Now the load's connection reads
 * them first and the loader takes it over. Counted at a TCP relay in front of
 * the server.
 */
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';
import { relay } from './pg-relay.js';

pgTest(`postgres: a load opens one connection per run: the table's column names (_pylon_columns) are read on the load's own connection${PG_SKIP_NOTE}`, async (t) => {
  const proxy = await relay(new URL(PG_URL!));
  t.teardown(() => proxy.close());
  const url = new URL(PG_URL!);
  url.host = `127.0.0.1:${proxy.port}`;
  const to = `${url.toString()}#${uniqueTable('oneconn')}`;
  await withEmulator({ seed: 63, seedRandom: 20 }, async (emulator) => {
    const dir = await tempDir();
    for (const runId of ['c1', 'c2']) {
      const before = proxy.accepted();
      const night = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to, runId });
      t.like(night, { complete: true }, night.stoppedAt?.message);
      t.is(proxy.accepted() - before, 1, `${runId}: one connection to the database`);
    }
  });
});

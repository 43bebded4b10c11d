/**
 * PostgreSQL going away during a changes-only night (the table's kept state
 * as the baseline, pages of 100): the run said `Cannot read properties of
 * null (reading 'stream')`, a driver failure on the dead connection, instead
 * of the connection-lost message a first load gives. A TCP relay in front of
 * the server cuts every connection after the second page.
 */
import { join } from 'node:path';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import { withEmulator } from '../../helpers/with-emulator.js';
import { exportFrom, tempDir } from '../helpers.js';
import { relay } from './pg-relay.js';

pgTest(`postgres: a connection lost during a changes-only night is reported as lost${PG_SKIP_NOTE}`, async (t) => {
  const upstream = new URL(PG_URL!);
  const proxy = await relay(upstream);
  t.teardown(() => proxy.close());
  const url = new URL(PG_URL!);
  url.host = `127.0.0.1:${proxy.port}`;
  const to = `${url.toString()}#${uniqueTable('lost')}`;
  await withEmulator({ seed: 97, seedRandom: 500 }, async (emulator) => {
    const dir = await tempDir();
    const first = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to, runId: 'n1' });
    t.like(first, { complete: true });
    let pages = 0;
    const second = await exportFrom(emulator, { output: join(dir, 'c.parquet'), to, runId: 'n2', pageSize: 100 }, { onProgress: () => {
      pages += 1;
      if (pages === 2) proxy.cut();
    } });
    t.false(second.complete);
    t.regex(second.stoppedAt!.code, /^LOAD_/);
    t.notRegex(second.stoppedAt!.message, /Cannot read properties/);
    t.regex(second.stoppedAt!.message, /Connection terminated unexpectedly/);
  });
});

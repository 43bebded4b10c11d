/**
 * A value PostgreSQL refuses in the COPY (a NUL byte in a name: text cannot
 * hold it) fails the load, and the run said only `Cannot read properties of
 * null (reading 'stream')`: ending the refused COPY fails inside the driver,
 * and that error replaced the server's. The run now says what the server
 * refused, and where (the COPY's line and column). Real PostgreSQL.
 */
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';

pgTest(`postgres: a value the COPY refuses (a NUL byte in a name) fails the load with the server's reason and where, not a driver error${PG_SKIP_NOTE}`, async (t) => {
  await withEmulator({ seed: 83, seedRandom: 12 }, async (emulator) => {
    emulator.store.update(emulator.store.at(2)!.id, { name: 'Nul \u0000 Here' });
    const dir = await tempDir();
    const table = uniqueTable('refused');
    const stats = await exportFrom(emulator, { to: `${PG_URL}#${table}`, manifest: join(dir, 'm.json'), runId: 'n1' });
    t.false(stats.complete);
    t.is(stats.stoppedAt?.code, 'LOAD_FAILED');
    const message = stats.stoppedAt?.message ?? '';
    t.notRegex(message, /Cannot read properties/);
    t.regex(message, new RegExp(`^Cannot load into .*#${table}: invalid byte sequence for encoding "UTF8": 0x00 \\(COPY ${table}, line \\d+`), message);
  });
});

/**
 * A value PostgreSQL refuses in the COPY fails the load, and the run said
 * only `Cannot read properties of null (reading 'stream')`: ending the
 * refused COPY fails inside the driver, and that error replaced the
 * server's. The run now says what the server refused, and where (the COPY's
 * line and column). Real PostgreSQL: a LATIN1 database, which cannot hold a
 * name in Chinese characters (a NUL, the refusal this test first used, is
 * now stored as U+FFFD: nul-text.test.ts).
 */
import { join } from 'node:path';
import { withEmulator } from '../../helpers/with-emulator.js';
import { PG_SKIP_NOTE, PG_URL, pgTest, uniqueTable, withPg } from '../../helpers/postgres.js';
import { exportFrom, tempDir } from '../helpers.js';

pgTest(`postgres: a value the COPY refuses (a name a LATIN1 database cannot hold) fails the load with the server's reason and where, not a driver error${PG_SKIP_NOTE}`, async (t) => {
  const database = uniqueTable('latin1');
  await withPg((c) => c.query(`CREATE DATABASE "${database}" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
  t.teardown(() => withPg((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)));
  const url = new URL(PG_URL!);
  url.pathname = `/${database}`;
  await withEmulator({ seed: 83, seedRandom: 12 }, async (emulator) => {
    emulator.store.update(emulator.store.at(2)!.id, { name: '漢字 Name' });
    const dir = await tempDir();
    const table = uniqueTable('refused');
    const stats = await exportFrom(emulator, { to: `${url}#${table}`, manifest: join(dir, 'm.json'), runId: 'n1' });
    t.false(stats.complete);
    t.is(stats.stoppedAt?.code, 'LOAD_FAILED');
    const message = stats.stoppedAt?.message ?? '';
    t.notRegex(message, /Cannot read properties/);
    t.regex(message, new RegExp(`^Cannot load into .*#${table}: character with byte sequence 0x\\w+ 0x\\w+ 0x\\w+ in encoding "UTF8" has no equivalent in encoding "LATIN1" \\(COPY ${table}, line \\d+`), message);
  });
});

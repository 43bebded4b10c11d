/**
 * Duplicates that chain (issue 18): A (email x, id 1), B (email y, id 1),
 * C (email y, id 2). A and B share an external id, B and C an email. Under every
 * --on-duplicate policy each row ends in exactly one outcome, the dry run plans
 * what the real run does, a re-run writes nothing, and no contact is changed
 * that a row does not own (a contact imported earlier stays byte for byte).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir, writes } from '../helpers/cli.js';
import { counts, importFile, snapshot, storedFields, type StoredFields } from '../helpers/corpus.js';

type Outcome = { created: StoredFields } | { failed: RegExp };

const A: StoredFields = { name: 'Ana First', email: 'x@chain.example', phones: [], externalIds: [['intercom', '1']] };
const C: StoredFields = { name: 'Cy Third', email: 'Y@Chain.example', phones: [], externalIds: [['intercom', '2']] };

const CHAIN = ['Ana First,x@chain.example,1', 'Bo Second,y@chain.example,1', 'Cy Third,Y@Chain.example,2'];
// The other chain: A~B by email, B~C by id. B is a duplicate by its email (its first key), and its id still counts:
// which rows are duplicates does not depend on the order of a row's keys, nor on whether the run was resumed.
const CHAIN_BY_EMAIL_FIRST = ['Ana First,x@chain.example,1', 'Bo Second,X@chain.example,2', 'Cy Third,Y@Chain.example,2'];

const POLICIES: Array<{ policy: 'first' | 'last' | 'error'; rows?: string[]; lines: Record<string, Outcome> }> = [
  {
    policy: 'first',
    lines: {
      '2': { created: A },
      '3': { failed: /^Duplicate of line 2 \(same external id; --on-duplicate first\)$/ },
      // B was not imported, yet C shares its email: a row whose key an earlier row holds is a duplicate, kept or not.
      '4': { failed: /^Duplicate of line 3 \(same email; --on-duplicate first\)$/ },
    },
  },
  {
    policy: 'last',
    lines: {
      '2': { failed: /^Duplicate of line 3 \(same external id; --on-duplicate last\)$/ },
      '3': { failed: /^Duplicate of line 4 \(same email; --on-duplicate last\)$/ },
      '4': { created: C },
    },
  },
  {
    policy: 'first',
    rows: CHAIN_BY_EMAIL_FIRST,
    lines: {
      '2': { created: A },
      '3': { failed: /^Duplicate of line 2 \(same email; --on-duplicate first\)$/ },
      '4': { failed: /^Duplicate of line 3 \(same external id; --on-duplicate first\)$/ },
    },
  },
  {
    policy: 'error',
    lines: {
      '2': { failed: /^Duplicate of line 3 \(same external id; --on-duplicate error\)$/ },
      '3': { failed: /^Duplicate of line 4 \(same email; --on-duplicate error\)$/ },
      '4': { failed: /^Duplicate of line 3 \(same email; --on-duplicate error\)$/ },
    },
  },
];

for (const { policy, rows = CHAIN, lines } of POLICIES) {
  const chain = rows === CHAIN ? 'A~B by id, B~C by email' : 'A~B by email, B~C by id';
  test(`a chain of duplicates (${chain}), --on-duplicate ${policy}: one outcome a row, dry run = real run, nothing else changed, a re-run writes nothing`, async (t) => {
    const emulator = await startEmulator(t);
    const dir = tempDir(t);
    const earlier = join(dir, 'earlier.csv');
    writeFileSync(earlier, 'Name,Email,User ID\r\nZoe Earlier,zoe@chain.example,9\r\n');
    await importFile(t, emulator, earlier, 'intercom');
    const before = snapshot(emulator);

    const input = join(dir, 'chain.csv');
    writeFileSync(input, ['Name,Email,User ID', ...rows, ''].join('\r\n'));
    const args = ['--on-duplicate', policy];
    const dry = await importFile(t, emulator, input, 'intercom', ['--dry-run', ...args]);
    t.is(writes(emulator), 1, 'the dry run writes nothing (1: the earlier import)');
    const real = await importFile(t, emulator, input, 'intercom', args);
    t.deepEqual(counts(real.stats), counts(dry.stats), 'dry-run counts equal the real run');
    const byLine = (rows: typeof real.results) => rows.map((r) => [r._line, r._action]).sort();
    t.deepEqual(byLine(dry.results), byLine(real.results), 'the dry run plans each row as the real run does');
    t.deepEqual(real.results.map((r) => r._line).sort(), ['2', '3', '4'], 'exactly one outcome a row');

    for (const [line, outcome] of Object.entries(lines)) {
      const result = real.results.find((r) => r._line === line)!;
      if ('created' in outcome) {
        t.is(result._action, 'created', `line ${line}`);
        const stored = emulator.store.get(result._contact_id ?? '');
        t.deepEqual(stored && storedFields(emulator, stored), outcome.created, `line ${line}`);
      } else {
        t.is(result._action, 'failed', `line ${line}`);
        const error = real.errors.find((r) => r._line === line);
        t.is(error?._error_code, 'ROW_DUPLICATE_IN_FILE', `line ${line}`);
        t.regex(error?._error_message ?? '', outcome.failed, `line ${line}`);
        t.is(dry.errors.find((r) => r._line === line)?._error_message, error?._error_message, `line ${line}: the dry run says the same`);
      }
    }
    const created = Object.values(lines).filter((o) => 'created' in o).length;
    t.is(emulator.store.size, 1 + created);
    for (const [id, json] of before) t.is(JSON.stringify(emulator.store.get(id)), json, `contact ${id} imported earlier is unchanged`);

    const writesBefore = writes(emulator);
    const again = await importFile(t, emulator, input, 'intercom', args);
    t.is(writes(emulator) - writesBefore, 0, 'a second run sends no write');
    t.deepEqual(counts(again.stats), { ...counts(real.stats), created: 0, unchanged: created });
    t.log(`--on-duplicate ${policy}: ${real.results.map((r) => `line ${r._line} ${r._action}`).sort().join(', ')}`);
  });
}

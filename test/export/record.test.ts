import test from 'ava';
import { availableColumns, ON_REQUEST_COLUMNS, selectColumns, toCells, toJsonRecord } from '../../src/export/columns.js';
import { columnsKey, recordHash } from '../../src/export/delta.js';
import { rowHasher } from '../../src/export/row-hash.js';
import { recordMaker } from '../../src/export/record.js';
import { toTypedRow, typedColumns, typedJsonLine } from '../../src/export/schema.js';
import type { Contact, CustomFieldDefinition } from '../../src/pylon/types.js';

const defs: CustomFieldDefinition[] = [
  { id: '1', slug: 'seats', label: 'Seats', type: 'number', object_type: 'contact' },
  { id: '2', slug: 'interests', label: 'Interests', type: 'multiselect', object_type: 'contact' },
];

const contact: Contact = {
  id: 'c1',
  name: 'Ada',
  email: 'ada@x.example',
  emails: ['ada@x.example', 'ada2@x.example'],
  account: { id: 'acc1', external_ids: [{ external_id: 'ext', label: 'crm' }] },
  external_ids: [{ external_id: 'e1', label: 'sf' }],
  custom_fields: { seats: { slug: 'seats', value: '12' }, interests: { slug: 'interests', values: ['api', 'billing'] } },
};

const everything = { typed: true, line: true, json: true, hash: true };

/** The contact with a counter on every field the columns read. */
function counted(source: Contact): { contact: Contact; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const contact = {} as Contact;
  for (const [key, value] of Object.entries(source)) {
    Object.defineProperty(contact, key, {
      enumerable: true,
      get: () => {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return value;
      },
    });
  }
  return { contact, reads };
}

test('a record holds every form an output takes, each equal to the one-purpose conversion (cells, typed row, JSON line, NDJSON object, hash)', (t) => {
  const columns = selectColumns(availableColumns(defs), [...availableColumns(defs).map((c) => c.name), ...ON_REQUEST_COLUMNS.map((c) => c.name)]);
  const typed = typedColumns(columns);
  const key = columnsKey(columns.map((c) => c.name));
  const record = recordMaker(columns, typed, rowHasher('sha256', key), everything)(contact);
  if (typeof record === 'string') return t.fail(record);
  const row = toTypedRow(contact, typed, columns);
  t.is(record.id, 'c1');
  t.deepEqual(record.cells, toCells(contact, columns));
  t.deepEqual(record.typed, row as never);
  t.is(record.line, typedJsonLine(typed, row as never));
  t.deepEqual(record.json, toJsonRecord(contact, columns));
  t.deepEqual(record.hash, recordHash(key, toCells(contact, columns)));
  t.is(record.change, 'new');
});

test('a contact is read once per record, whatever forms the outputs ask for', (t) => {
  const columns = availableColumns(defs);
  const typed = typedColumns(columns);
  const { contact: watched, reads } = counted(contact);
  const record = recordMaker(columns, typed, rowHasher('xxh64', columnsKey(columns.map((c) => c.name))), everything)(watched);
  t.not(typeof record, 'string');
  // `id` by its column and once more as the record's id; custom_fields once per custom column; every other field once.
  t.deepEqual(Object.fromEntries(reads), { id: 2, name: 1, email: 1, emails: 1, account: 1, custom_fields: 2 });
});

test('only the forms asked for are made; a value that does not fit its type is a message naming the column', (t) => {
  const columns = availableColumns(defs);
  const typed = typedColumns(columns);
  const plain = recordMaker(columns, typed, rowHasher('xxh64', columnsKey(['k'])), { typed: false, line: false, json: false, hash: false })(contact);
  if (typeof plain === 'string') return t.fail(plain);
  t.deepEqual([plain.typed, plain.line, plain.json, plain.hash], [undefined, undefined, undefined, undefined]);
  t.deepEqual(plain.cells, toCells(contact, columns));
  const bad = recordMaker(columns, typed, rowHasher('xxh64', columnsKey(['k'])), everything)({ ...contact, custom_fields: { seats: { slug: 'seats', value: 'twelve' } } });
  t.is(typeof bad, 'string');
  t.regex(bad as string, /custom\.seats = "twelve"/);
});

test('the xxh64 record hash: the same cells give the same hash, any other list of cells (a moved separator, a changed column set) another; its hex is its two halves', (t) => {
  const hash = rowHasher('xxh64', columnsKey(['a', 'b']));
  const ab = hash(['x', 'y']);
  t.deepEqual(hash(['x', 'y']), ab);
  t.is(ab.hex, ab.hi.toString(16).padStart(8, '0') + ab.lo.toString(16).padStart(8, '0'));
  t.regex(ab.hex, /^[0-9a-f]{16}$/);
  const lists = [
    ['x', 'y'],
    ['xy', ''],
    ['', 'xy'],
    ['x\u001fy', ''],
    ['x', '\u001fy'],
    ['x\u001f', 'y'],
    ['x', 'y\u001f'],
    ['x;y', ''],
    ['"x"', 'y'],
  ];
  const hexes = lists.map((cells) => hash(cells).hex);
  t.is(new Set(hexes).size, lists.length, 'each list of cells has its own hash, a cell holding U+001F too');
  t.not(rowHasher('xxh64', columnsKey(['a', 'c']))(['x', 'y']).hex, ab.hex, 'another column list, another hash');
  t.not(rowHasher('sha256', columnsKey(['a', 'b']))(['x', 'y']).hex, ab.hex, 'the kinds differ');
  t.deepEqual(rowHasher('sha256', 'k')(['x', 'y']), recordHash('k', ['x', 'y']), 'sha256 is the hash states had before they named theirs');
});

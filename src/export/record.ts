import type { Contact } from '../pylon/types.js';
import { cellsInPlace, cellsOf, jsonRecordOf, readValues, type ExportColumn, type JsonRecord } from './columns.js';
import type { Change, RowHasher } from './row-hash.js';
import type { Key64 } from './id-index.js';
import { typedJsonLine, typedRowOf, type TypedColumn, type TypedRow } from './schema.js';

/**
 * One contact as every output of the run takes it: its values read once,
 * converted once into each form an output asks for, hashed once. The data
 * file, the state, the change log, the values digest and the load all get the
 * same record.
 */
export interface ExportRecord {
  id: string;
  /** The CSV cells (the record hash is taken over them). */
  cells: string[];
  /** The record hash (state, delta, change log, load); undefined when no output needs it. */
  hash: (Key64 & { hex: string }) | undefined;
  /** Typed values (Parquet, typed NDJSON, loads). */
  typed: TypedRow | undefined;
  /** The typed JSON line (typed NDJSON, the values digest). */
  line: string | undefined;
  /** The untyped NDJSON object. */
  json: JsonRecord | undefined;
  /** Against the baseline ('new' without one); set by the run. */
  change: Change;
}

/** Which forms the run's outputs need. */
export interface RecordNeeds {
  typed: boolean;
  line: boolean;
  json: boolean;
  hash: boolean;
}

/** Makes the records of one run (`hashOf`: the run's record hash, row-hash.ts): a string (naming the column) when a value does not fit its type. */
export function recordMaker(columns: readonly ExportColumn[], typed: readonly TypedColumn[], hashOf: RowHasher, needs: RecordNeeds): (contact: Contact) => ExportRecord | string {
  return (contact) => {
    const values = readValues(contact, columns);
    let row: TypedRow | undefined;
    if (needs.typed) {
      const result = typedRowOf(values, typed);
      if (typeof result === 'string') return result;
      row = result;
    }
    // Nothing reads the values after the cells unless the NDJSON object is made from them.
    const cells = needs.json ? cellsOf(values, columns) : cellsInPlace(values, columns);
    return {
      id: contact.id,
      cells,
      hash: needs.hash ? hashOf(cells) : undefined,
      typed: row,
      line: needs.line ? typedJsonLine(typed, row!) : undefined,
      json: needs.json ? jsonRecordOf(values, columns) : undefined,
      change: 'new',
    };
  };
}

/**
 * Iceberg column projection: which column of a data file backs each requested field. Iceberg matches
 * columns by field id, not name, so a data file written before a rename, or by a writer that sanitizes
 * names ("Breed Name" → `Breed_x20Name`), is still read right. A field the file lacks was added after
 * it was written: its rows are NULL (spec, "Column Projection"), unless the field has an initial default
 * or the data file is partitioned (an identity partition value would stand for it): neither is
 * projected here, so both are refused. Files without field ids are read by name.
 */
import { RecordBatch, Struct, Type, makeData, type Data, type DataType, type Decimal, type Field, type FixedSizeBinary, type Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { ParquetFooter } from './parquet/footer.js';
import type { ColumnRequest } from './parquet/reader.js';

const FIELD_ID = 'PARQUET:field_id';

/** The columns to read from one data file for the requested fields. */
export interface Projection {
  /** Column requests for the fields the file holds. */
  requests: ColumnRequest[];
  /** Per requested field: the index of its request, or -1 when the file lacks it (all NULL). */
  slots: number[];
}

/** Resolves `columns` against a data file's footer (see the file comment). */
export function projectColumns(path: string, footer: ParquetFooter, columns: ColumnRequest[], partitioned: boolean): Projection {
  const byId = new Map<string, string>();
  for (const f of footer.schema.fields) {
    const id = f.metadata.get(FIELD_ID);
    if (id !== undefined) byId.set(id, f.name);
  }
  if (byId.size === 0) return { requests: columns, slots: columns.map((_, i) => i) };
  const file = { partitioned, idless: idlessColumns(footer) };
  const requests: ColumnRequest[] = [];
  const slots = columns.map((c) => {
    const id = c.field.metadata.get(FIELD_ID);
    const name = id === undefined ? c.external : byId.get(id);
    if (name === undefined) {
      const why = missingReason(c.field, file);
      if (why) throw new LakemapError('FIELD_NOT_FOUND', `${path}: field "${c.field.name}" (Iceberg field id ${id}) is not in the data file, written before the column was added, and ${why}`, { path });
      return -1;
    }
    requests.push(name === c.external ? c : { ...c, external: name });
    return requests.length - 1;
  });
  return { requests, slots };
}

/** Why a field missing from a partitioned data file is refused. */
const PARTITION_VALUES = 'the file is partitioned: an identity partition value may stand for it, and those are not filled in yet';

/** Top-level columns of a file without an Iceberg field id (a file should give every column one, or none). */
export function idlessColumns(footer: ParquetFooter): string[] {
  return footer.schema.fields.filter((f) => !f.metadata.has(FIELD_ID)).map((f) => f.name);
}

/**
 * Why NULLs cannot stand for the values of `field` in a data file that lacks it, if they cannot. `file`:
 * whether the data file is partitioned, and its columns without a field id (one of which may be it).
 */
export function missingReason(field: Field, file: { partitioned: boolean; idless: string[] }): string | undefined {
  if (field.metadata.has('iceberg:initial-default')) return 'its initial default is not projected yet';
  if (file.partitioned) return PARTITION_VALUES;
  if (file.idless.length > 0) return `the file has columns without a field id (${file.idless.map((n) => `"${n}"`).join(', ')}), one of which may be it`;
  if (!field.nullable) return 'the field is required, so NULL cannot stand for it';
  if (!nullable(field.type)) return `NULL values of ${String(field.type)} are not built yet`;
  return undefined;
}

function nullable(t: DataType): boolean {
  return [Type.Null, Type.Int, Type.Float, Type.Bool, Type.Date, Type.Time, Type.Timestamp, Type.Decimal, Type.FixedSizeBinary, Type.Utf8, Type.Binary].includes(t.typeId);
}

/**
 * The output batch of `read` (the columns of `projection.requests`, then possibly more, dropped):
 * the requested fields in `schema` order, a missing one as a column of NULLs.
 */
export function projectBatch(read: RecordBatch, schema: Schema, projection: Projection): RecordBatch {
  const n = read.numRows;
  const identity = projection.slots.length === read.numCols && projection.slots.every((s, i) => s === i);
  // same columns: only the schema object differs (the output's carries the collection's metadata)
  if (identity) return read.schema === schema ? read : new RecordBatch(schema, read.data);
  const children = projection.slots.map((s, i) => (s >= 0 ? read.data.children[s]! : nullColumn(schema.fields[i]!.type, n)));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/** A column of `n` NULLs of a flat type, with zeroed value buffers of full size. */
function nullColumn(type: DataType, n: number): Data {
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  const t = type as DataType & { ArrayType: new (n: number) => ArrayLike<unknown> };
  switch (type.typeId) {
    case Type.Null: return makeData({ type, length: n });
    case Type.Bool: return makeData({ type, length: n, nullCount: n, nullBitmap, data: new Uint8Array((n + 7) >> 3) } as never);
    case Type.Utf8:
    case Type.Binary: return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) } as never);
    case Type.FixedSizeBinary: return makeData({ type, length: n, nullCount: n, nullBitmap, data: new Uint8Array(n * (type as FixedSizeBinary).byteWidth) } as never);
    case Type.Decimal: return makeData({ type, length: n, nullCount: n, nullBitmap, data: new Uint32Array((n * (type as Decimal).bitWidth) / 32) } as never);
    default: return makeData({ type, length: n, nullCount: n, nullBitmap, data: new t.ArrayType(n) } as never);
  }
}

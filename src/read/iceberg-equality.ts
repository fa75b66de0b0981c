/**
 * Iceberg equality deletes (spec, "Equality Delete Files"): a data row is deleted when, for some row of
 * an equality delete file that applies to its data file, its values equal the delete row's in every
 * column named by `equality_ids` (NULL equals NULL). Columns are matched by field id in both files, so a
 * delete file may hold extra columns, in any order, under names written after a rename.
 *
 * Which delete files apply (data sequence number strictly less, same partition or a global delete) is
 * decided by the scanner (scanners/iceberg/deletes.ts) and recorded in the manifest; this file loads
 * the keys of those files and tests data rows against them. The keys are held in memory and counted
 * against the read budget: past it the read is refused, never truncated. Whatever cannot be compared
 * exactly (float columns, nested fields, files without field ids, defaults) is refused by name.
 */
import { DateUnit, Field, Null, Schema, TimeUnit, Type, type Data, type DataType, type Date_, type Decimal, type RecordBatch, type Time, type Timestamp } from 'apache-arrow';
import { LakemapError, corruptFile } from '../errors.js';
import type { ManifestFile } from '../types.js';
import type { IcebergFiles } from './iceberg.js';
import { idlessColumns, missingReason } from './iceberg-projection.js';
import type { ParquetFooter } from './parquet/footer.js';
import type { ColumnRequest, ParquetRangeRequest } from './parquet/reader.js';

/** An equality delete file as the manifest lists it under a data file's `details.deletes`. */
export interface EqualityDeleteRef {
  path: string;
  equalityIds?: number[];
}

/** Estimated bytes held per distinct key besides its characters (string header, Set slot). */
export const KEY_OVERHEAD_BYTES = 64;

const FIELD_ID = 'PARQUET:field_id';

/** The deleted keys of the delete files sharing one set of equality field ids. */
interface KeyGroup {
  /** Equality field ids, ascending (keys list their values in this order). */
  ids: number[];
  /** Comparison kind of each id's column in the delete files (see {@link keyKind}). */
  kinds: string[];
  /** Delete file that set each kind, for errors. */
  from: string;
  keys: Set<string>;
}

/** The equality deletes of one data file, loaded. */
export interface EqualityDeletes {
  groups: KeyGroup[];
  /** Every equality field id of any group, ascending. */
  fieldIds: number[];
  /** Bytes the keys are estimated to hold. */
  bytes: number;
}

/**
 * The comparison kind of a column type: values of two columns compare only when their kinds are equal
 * (an Iceberg int promoted to long still compares as an integer). Undefined: not comparable exactly.
 */
function keyKind(t: DataType): string | undefined {
  switch (t.typeId) {
    case Type.Int: return 'integer';
    case Type.Bool: return 'boolean';
    case Type.Utf8: return 'string';
    case Type.Binary: case Type.FixedSizeBinary: return 'binary';
    case Type.Decimal: return `decimal(scale ${(t as Decimal).scale})`;
    case Type.Date: return 'date';
    case Type.Time: return 'time';
    case Type.Timestamp: return (t as Timestamp).timezone ? 'timestamptz' : 'timestamp';
    default: return undefined;
  }
}

/** Why a column of type `t` cannot be an equality column here. */
function refusal(t: DataType): string {
  if (t.typeId === Type.Float) {
    return `it is ${String(t)}: the Iceberg spec does not allow float or double equality columns (they follow the identifier-field rules), and NaN and -0 have no single equality`;
  }
  return `its type ${String(t)} is not compared by this reader`;
}

/** Top-level fields of a parquet file by Iceberg field id; `nested` holds ids found only below the top. */
function fieldsById(footer: ParquetFooter, path: string): { top: Map<number, Field>; nested: Set<number>; any: boolean } {
  const top = new Map<number, Field>();
  const nested = new Set<number>();
  const walk = (f: Field, depth: number): void => {
    const raw = f.metadata.get(FIELD_ID);
    if (raw !== undefined) {
      const id = Number(raw);
      if (depth === 0) {
        if (top.has(id)) throw corruptFile(path, `two columns carry Iceberg field id ${id}`);
        top.set(id, f);
      } else nested.add(id);
    }
    for (const c of (f.type.children ?? []) as Field[]) walk(c, depth + 1);
  };
  for (const f of footer.schema.fields) walk(f, 0);
  return { top, nested, any: top.size > 0 || nested.size > 0 };
}

/** The columns of `footer` backing `ids`, checked comparable; `undefined` where the file lacks the field. */
function resolveColumns(footer: ParquetFooter, path: string, ids: number[], role: string): (Field | undefined)[] {
  const { top, nested, any } = fieldsById(footer, path);
  if (!any) {
    throw new LakemapError('UNSUPPORTED', `${path}: the ${role} has no Iceberg field ids (a name-mapped file); equality deletes are matched by field id, which is not done by name here`, { path });
  }
  return ids.map((id) => {
    const f = top.get(id);
    if (!f) {
      if (nested.has(id)) throw new LakemapError('UNSUPPORTED', `${path}: equality field id ${id} is a nested field of the ${role}; only top-level equality columns are applied`, { path });
      return undefined;
    }
    if (keyKind(f.type) === undefined) throw new LakemapError('UNSUPPORTED', `${path}: equality column "${f.name}" (field id ${id}) of the ${role} cannot be compared: ${refusal(f.type)}`, { path });
    return f;
  });
}

/**
 * Reads the equality delete files `refs` of data file `file` into key sets, refusing past `budget`
 * bytes of keys (`UNSUPPORTED`, naming the delete file) before holding more.
 */
export async function loadEqualityDeletes(
  file: ManifestFile, refs: EqualityDeleteRef[], files: IcebergFiles, budget: number, signal: AbortSignal | undefined,
): Promise<EqualityDeletes> {
  const byIds = new Map<string, KeyGroup>();
  const out: EqualityDeletes = { groups: [], fieldIds: [], bytes: 0 };
  for (const ref of refs) {
    const ids = [...new Set(ref.equalityIds ?? [])].sort((a, b) => a - b);
    if (ids.length === 0 || ids.some((id) => !Number.isSafeInteger(id))) {
      throw corruptFile(ref.path, `equality delete file of ${file.path} lists no valid equality_ids (${JSON.stringify(ref.equalityIds ?? null)})`);
    }
    const name = ids.join(',');
    let group = byIds.get(name);
    let kinds: string[] = [];
    const request = (footer: ParquetFooter): ParquetRangeRequest => {
      const fields = resolveColumns(footer, ref.path, ids, 'equality delete file').map((f, i) => {
        if (!f) throw corruptFile(ref.path, `equality delete file has no column with field id ${ids[i]}, which its equality_ids name`);
        return f;
      });
      kinds = fields.map((f) => keyKind(f.type)!);
      const rows = footer.rowGroups.reduce((a, g) => a + g.numRows, 0);
      const columns: ColumnRequest[] = fields.map((f) => ({ field: f, external: f.name }));
      return { rowOffset: 0, rows, columns, schema: new Schema(fields), signal };
    };
    let checked = false;
    for await (const batch of files.parquet(ref.path, undefined, request)) {
      if (!checked) {
        checked = true;
        if (group) checkKinds(group, ids, kinds, ref.path, 'equality delete file');
        else {
          group = { ids, kinds, from: ref.path, keys: new Set() };
          byIds.set(name, group);
          out.groups.push(group);
        }
      }
      const keys = group!.keys;
      const encode = keyEncoder(ids.map((_, i) => batch.data.children[i]!));
      for (let r = 0; r < batch.numRows; r++) {
        const key = encode(r);
        if (keys.has(key)) continue;
        const cost = KEY_OVERHEAD_BYTES + 2 * key.length;
        if (out.bytes + cost > budget) {
          const held = out.groups.reduce((a, g) => a + g.keys.size, 0);
          throw new LakemapError(
            'UNSUPPORTED',
            `${ref.path}: the equality delete keys of ${file.path} need more than the ${budget}-byte read budget (${held} distinct keys held, ~${out.bytes} bytes); raise readBudgetBytes to read this data file`,
            { path: ref.path },
          );
        }
        out.bytes += cost;
        keys.add(key);
      }
    }
  }
  out.fieldIds = [...new Set(out.groups.flatMap((g) => g.ids))].sort((a, b) => a - b);
  return out;
}

/** Refuses a column whose kind differs from the one the group's first delete file gave field `ids[i]`. */
function checkKinds(group: KeyGroup, ids: number[], kinds: string[], path: string, role: string): void {
  ids.forEach((id, i) => {
    const j = group.ids.indexOf(id);
    if (j >= 0 && kinds[i] !== group.kinds[j]) {
      throw new LakemapError(
        'SCHEMA_MISMATCH',
        `${path}: equality field id ${id} is a ${kinds[i]} column in the ${role} but a ${group.kinds[j]} column in ${group.from}; the values cannot be compared`,
        { path },
      );
    }
  });
}

/** How a data file's equality columns are read: extra column requests, and which ids the file lacks. */
export interface EqualityColumns {
  /** Requests to add to the data file's read, one per id the file holds, in `ids` order. */
  requests: ColumnRequest[];
  /** For each of `deletes.fieldIds`: the index of its request, or -1 (the file lacks it: NULL). */
  slots: number[];
}

/**
 * The data file's columns for the equality field ids, from its footer. A field the data file lacks is
 * NULL for its rows (the spec's projection rule) when NULL is what a read of it gives (see
 * {@link missingReason}); otherwise refused.
 */
export function equalityColumns(path: string, footer: ParquetFooter, deletes: EqualityDeletes, table: Schema | undefined, partitioned: boolean): EqualityColumns {
  const fields = resolveColumns(footer, path, deletes.fieldIds, 'data file');
  const file = { partitioned, idless: idlessColumns(footer) };
  const requests: ColumnRequest[] = [];
  const slots = fields.map((f, i) => {
    const id = deletes.fieldIds[i]!;
    if (!f) {
      // a field dropped from the table (not declared) is still compared, as an optional one
      const declared = table?.fields.find((t) => t.metadata.get(FIELD_ID) === String(id));
      const why = missingReason(declared ?? new Field(`field ${id}`, new Null(), true), file);
      if (why) throw new LakemapError('UNSUPPORTED', `${path}: the data file lacks equality field ${declared ? `"${declared.name}" ` : ''}(id ${id}), and ${why}`, { path });
      return -1;
    }
    for (const g of deletes.groups) checkKinds(g, [id], [keyKind(f.type)!], path, 'data file');
    requests.push({ field: new Field(`\u0000equality ${id}`, f.type, true, f.metadata), external: f.name });
    return requests.length - 1;
  });
  return { requests, slots };
}

/**
 * For a batch read with the extra columns (placed from index `first` on): a test of whether row `r` is
 * deleted by any group.
 */
export function equalityMatcher(deletes: EqualityDeletes, cols: EqualityColumns, batch: RecordBatch, first: number): (r: number) => boolean {
  const dataOf = (id: number): Data | null => {
    const slot = cols.slots[deletes.fieldIds.indexOf(id)]!;
    return slot < 0 ? null : batch.data.children[first + slot]!;
  };
  const tests = deletes.groups.map((g) => ({ keys: g.keys, encode: keyEncoder(g.ids.map(dataOf)) }));
  return (r) => tests.some((t) => t.keys.has(t.encode(r)));
}

const NANOS_PER = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // by TimeUnit: SECOND … NANOSECOND

/**
 * Encodes row `r` of `columns` as one string: per column `N` for NULL (a missing column is NULL), else
 * the value's canonical text prefixed by its length, so that no two different rows share a key.
 * Integers (and dates, times, timestamps normalised to days and nanoseconds) as decimal text, decimals
 * as their unscaled integer, strings and binary as their bytes one char per byte, booleans as 0/1.
 */
function keyEncoder(columns: (Data | null)[]): (r: number) => string {
  const parts = columns.map(valueText);
  return (r) => {
    let key = '';
    for (const part of parts) {
      const v = part(r);
      key += v === null ? 'N' : `${v.length}:${v}`;
    }
    return key;
  };
}

function valueText(d: Data | null): (r: number) => string | null {
  if (!d) return () => null;
  const valid = (i: number): boolean => !d.nullBitmap || d.nullCount === 0 || ((d.nullBitmap[i >> 3]! >> (i & 7)) & 1) === 1;
  const t = d.type as DataType;
  const values = d.values as ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number };
  const at = (f: (i: number) => string) => (r: number): string | null => (valid(d.offset + r) ? f(d.offset + r) : null);
  switch (t.typeId) {
    case Type.Int:
      return at((i) => String(values[i]));
    case Type.Bool:
      return at((i) => (((d.values as Uint8Array)[i >> 3]! >> (i & 7)) & 1 ? '1' : '0'));
    case Type.Date:
      if ((t as Date_).unit === DateUnit.DAY) return at((i) => String(values[i]));
      return at((i) => String(floorDiv(BigInt(values[i]!), 86_400_000n)));
    case Type.Time:
    case Type.Timestamp: {
      const scale = NANOS_PER[(t as Time | Timestamp).unit as TimeUnit]!;
      return at((i) => String(BigInt(values[i]!) * scale));
    }
    case Type.Decimal: {
      const words = d.stride;
      const w = d.values as Uint32Array;
      return at((i) => {
        let v = 0n;
        for (let k = words - 1; k >= 0; k--) v = (v << 32n) | BigInt(w[i * words + k]!);
        return String(BigInt.asIntN(words * 32, v));
      });
    }
    case Type.Utf8:
    case Type.Binary: {
      const offsets = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      return at((i) => Buffer.from(bytes.buffer, bytes.byteOffset + offsets[i]!, offsets[i + 1]! - offsets[i]!).toString('latin1'));
    }
    case Type.FixedSizeBinary: {
      const width = d.stride;
      const bytes = d.values as Uint8Array;
      return at((i) => Buffer.from(bytes.buffer, bytes.byteOffset + i * width, width).toString('latin1'));
    }
    default:
      throw new LakemapError('INTERNAL', `equality key of type ${String(t)} was not refused before reading`);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

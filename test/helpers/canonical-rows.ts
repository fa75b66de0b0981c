// Canonical forms of row values, so rows read by lakemap (Arrow) and by DuckDB (its JS values) compare
// exactly: integers and decimals as exact strings, temporal values as integer microseconds or days,
// bytes as hex, floats as numbers (NaN as 'NaN'). Nested values keep everything that tells them apart:
// a struct is { struct: [[field, value], ...] } in field order (a null struct is null, a struct of
// nulls is not), a map is { map: [[key, value], ...] } in entry order, lists are arrays.
import { Type, type Data, type DataType, type RecordBatch } from 'apache-arrow';
import {
  DuckDBBlobValue, DuckDBDateValue, DuckDBDecimalValue, DuckDBListValue, DuckDBArrayValue, DuckDBTimeValue, DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue, DuckDBTimestampSecondsValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBUUIDValue, DuckDBTimeNSValue, DuckDBTimeTZValue,
  DuckDBStructValue, DuckDBMapValue, DuckDBInstance,
} from '@duckdb/node-api';

/** A canonical value. */
export type Canon = null | boolean | number | string | Canon[] | { struct: [string, Canon][] } | { map: ([Canon, Canon] | null)[] };

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const num = (n: number): Canon => (Number.isNaN(n) ? 'NaN' : n);

/** The rows of a DuckDB query (a fresh one-thread in-memory instance) in canonical form. */
export async function duckRows(sql: string): Promise<Record<string, Canon>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const rows = (await con.runAndReadAll(sql)).getRowObjects();
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, duckCanon(v)])));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** DuckDB's JS value (from `getRowObjects`) in canonical form. */
export function duckCanon(v: unknown): Canon {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return num(v);
  if (v instanceof DuckDBDecimalValue) return `${v.value}e-${v.scale}`;
  if (v instanceof DuckDBDateValue) return `d${v.days}`;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return `t${v.micros}`;
  if (v instanceof DuckDBTimestampMillisecondsValue) return `t${v.millis * 1000n}`;
  if (v instanceof DuckDBTimestampSecondsValue) return `t${v.seconds * 1000000n}`;
  if (v instanceof DuckDBTimestampNanosecondsValue) return `t${floorDiv(v.nanos, 1000n)}`;
  if (v instanceof DuckDBTimeValue) return `h${v.micros}`;
  if (v instanceof DuckDBTimeTZValue && v.offset === 0) return `h${v.micros}`;
  if (v instanceof DuckDBTimeNSValue) return `h${floorDiv(v.nanos, 1000n)}`;
  if (v instanceof DuckDBBlobValue) return `x${hex(v.bytes)}`;
  if (v instanceof DuckDBUUIDValue) return `x${v.toString().replace(/-/g, '')}`;
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(duckCanon);
  if (v instanceof DuckDBStructValue) return { struct: Object.entries(v.entries).map(([k, x]) => [k, duckCanon(x)]) };
  if (v instanceof DuckDBMapValue) return { map: v.entries.map((e) => [duckCanon(e.key), duckCanon(e.value)]) };
  throw new Error(`no canonical form for DuckDB value ${String(v)} (${(v as object).constructor?.name})`);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Rows of record batches in canonical form, one object per row keyed by field name. */
export function arrowRows(batches: RecordBatch[]): Record<string, Canon>[] {
  const out: Record<string, Canon>[] = [];
  for (const b of batches) {
    const cols = b.schema.fields.map((f, i) => ({ name: f.name, data: b.getChildAt(i)!.data[0]! }));
    for (let r = 0; r < b.numRows; r++) {
      const row: Record<string, Canon> = {};
      for (const c of cols) row[c.name] = arrowCanon(c.data, r);
      out.push(row);
    }
  }
  return out;
}

function valid(d: Data, i: number): boolean {
  if (!d.nullBitmap || d.nullCount === 0) return true;
  const j = d.offset + i;
  return ((d.nullBitmap[j >> 3]! >> (j & 7)) & 1) === 1;
}

function toMicros(v: bigint, unit: number): bigint {
  return unit === 0 ? v * 1000000n : unit === 1 ? v * 1000n : unit === 2 ? v : floorDiv(v, 1000n);
}

/** Value `i` of Arrow data `d` in canonical form. */
export function arrowCanon(d: Data, i: number): Canon {
  const t: DataType = d.type;
  if (t.typeId === Type.Null || !valid(d, i)) return null;
  // Arrow JS slices value and offset buffers, keeping `offset` for the validity bitmap (and booleans)
  const j = i;
  const values = d.values as ArrayLike<number | bigint> & { subarray?: (a: number, b: number) => unknown };
  switch (t.typeId) {
    case Type.Bool: {
      const b = d.offset + i;
      return ((d.values[b >> 3]! >> (b & 7)) & 1) === 1;
    }
    case Type.Int: return (t as unknown as { bitWidth: number }).bitWidth === 64 ? String(values[j]) : Number(values[j]);
    case Type.Float:
      if ((t as unknown as { precision: number }).precision === 0) return num(f16(values[j] as number));
      return num(values[j] as number);
    case Type.Decimal: {
      const words = (t as unknown as { bitWidth: number }).bitWidth / 32;
      let x = 0n;
      for (let w = words - 1; w >= 0; w--) x = (x << 32n) | BigInt(values[j * words + w] as number);
      return `${BigInt.asIntN(words * 32, x)}e-${(t as unknown as { scale: number }).scale}`;
    }
    case Type.Date:
      return (t as unknown as { unit: number }).unit === 0 ? `d${values[j]}` : `d${Number(values[j]) / 86400000}`;
    case Type.Timestamp: return `t${toMicros(BigInt(values[j]!), (t as unknown as { unit: number }).unit)}`;
    case Type.Time: return `h${toMicros(BigInt(values[j]!), (t as unknown as { unit: number }).unit)}`;
    case Type.Utf8: {
      const o = d.valueOffsets as Int32Array;
      return Buffer.from(d.values.buffer, d.values.byteOffset + o[j]!, o[j + 1]! - o[j]!).toString('utf8');
    }
    case Type.Binary: {
      const o = d.valueOffsets as Int32Array;
      return `x${hex((d.values as Uint8Array).subarray(o[j]!, o[j + 1]!))}`;
    }
    case Type.FixedSizeBinary: {
      const w = (t as unknown as { byteWidth: number }).byteWidth;
      return `x${hex((d.values as Uint8Array).subarray(j * w, j * w + w))}`;
    }
    case Type.List: {
      const o = d.valueOffsets as Int32Array;
      const child = d.children[0]!;
      const items: Canon[] = [];
      for (let k = o[j]!; k < o[j + 1]!; k++) items.push(arrowCanon(child, k));
      return items;
    }
    case Type.Struct:
      return { struct: d.type.children.map((f: { name: string }, c: number) => [f.name, arrowCanon(d.children[c]!, j)] as [string, Canon]) };
    case Type.Map: {
      const o = d.valueOffsets as Int32Array;
      const kv = d.children[0]!;
      const [keys, values] = kv.children;
      const entries: ([Canon, Canon] | null)[] = [];
      for (let k = o[j]!; k < o[j + 1]!; k++) entries.push(valid(kv, k) ? [arrowCanon(keys!, k), arrowCanon(values!, k)] : null);
      return { map: entries };
    }
    case Type.FixedSizeList: {
      const size = (t as unknown as { listSize: number }).listSize;
      const child = d.children[0]!;
      const items: Canon[] = [];
      for (let k = j * size; k < (j + 1) * size; k++) items.push(arrowCanon(child, k));
      return items;
    }
    default:
      throw new Error(`no canonical form for Arrow ${String(t)}`);
  }
}

function f16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

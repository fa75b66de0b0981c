/**
 * Copies runs of rows out of Arrow data into one new, compact Data: the live rows of a row group read
 * with deletes become one batch instead of one slice per run between deleted rows. apache-arrow (JS)
 * has no take kernel, so this is ours; it copies whole runs (`TypedArray.set`) where the layout allows,
 * and keeps every type, null and nested level as it was. Types it does not build are left to the caller
 * (`takeable`), who then yields slices, as before.
 *
 * Arrow JS layout followed here: a sliced Data's value, offset and type-id buffers start at its first
 * row, while its validity bitmap and boolean values are indexed from `offset`; children of variable-width
 * types are not sliced (the offsets point into them), those of structs and fixed-size lists are.
 */
import { Type, makeData, type Data, type DataType, type FixedSizeList } from 'apache-arrow';

/** Runs of rows `[starts[k], ends[k])`, ascending and disjoint, and the rows they hold. */
export interface Runs {
  starts: Int32Array;
  ends: Int32Array;
  count: number;
  rows: number;
}

/** True when {@link takeRuns} builds data of type `t` (and of all its children). */
export function takeable(t: DataType): boolean {
  switch (t.typeId) {
    case Type.Null: case Type.Bool: case Type.Int: case Type.Float: case Type.Decimal: case Type.Date: case Type.Time:
    case Type.Timestamp: case Type.Interval: case Type.Duration: case Type.FixedSizeBinary: case Type.Utf8: case Type.Binary:
      return true;
    case Type.List: case Type.Map: case Type.FixedSizeList: case Type.Struct:
      return t.children.every((c) => takeable(c.type));
    case Type.Dictionary:
      return true; // the indices are copied, the dictionary is shared
    default:
      return false;
  }
}

/** The rows of `data` in `runs`, in order, as new data (offset 0). */
export function takeRuns(data: Data, runs: Runs): Data {
  const { type } = data;
  const length = runs.rows;
  const { nullBitmap, nullCount } = takeValidity(data, runs);
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length } as never);
    case Type.Bool:
      return makeData({ type, length, nullCount, nullBitmap, data: takeBits(data.values as Uint8Array, data.offset, runs) } as never);
    case Type.Utf8:
    case Type.Binary: {
      const { offsets, at } = takeOffsets(data.valueOffsets as Int32Array, runs);
      const src = data.values as Uint8Array;
      const bytes = new Uint8Array(offsets[length]!);
      for (let k = 0, p = 0; k < runs.count; p += at.ends[k]! - at.starts[k]!, k++) bytes.set(src.subarray(at.starts[k]!, at.ends[k]!), p);
      return makeData({ type, length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes } as never);
    }
    case Type.List:
    case Type.Map: {
      const { offsets, at } = takeOffsets(data.valueOffsets as Int32Array, runs);
      const child = takeRuns(data.children[0]!, at);
      return makeData({ type, length, nullCount, nullBitmap, valueOffsets: offsets, child } as never);
    }
    case Type.FixedSizeList: {
      const size = (type as FixedSizeList).listSize;
      const child = takeRuns(data.children[0]!, scaleRuns(runs, size));
      return makeData({ type, length, nullCount, nullBitmap, child } as never);
    }
    case Type.Struct:
      return makeData({ type, length, nullCount, nullBitmap, children: data.children.map((c) => takeRuns(c, runs)) } as never);
    case Type.Dictionary:
      return makeData({ type, length, nullCount, nullBitmap, data: takeFixed(data.values, 1, runs), dictionary: data.dictionary } as never);
    default:
      return makeData({ type, length, nullCount, nullBitmap, data: takeFixed(data.values, data.stride, runs) } as never);
  }
}

/** Fixed-width values (`stride` elements per row), copied run by run. */
function takeFixed(values: ArrayLike<unknown>, stride: number, runs: Runs): ArrayLike<unknown> {
  const src = values as Uint8Array; // any typed array: only subarray/set/constructor are used
  const out = new (src.constructor as Uint8ArrayConstructor)(runs.rows * stride);
  let at = 0;
  for (let k = 0; k < runs.count; k++) {
    const s = runs.starts[k]! * stride;
    const e = runs.ends[k]! * stride;
    out.set(src.subarray(s, e), at);
    at += e - s;
  }
  return out;
}

/** Bits `offset + i` of `bits` for the rows in `runs`, packed from bit 0. */
function takeBits(bits: Uint8Array, offset: number, runs: Runs): Uint8Array {
  const out = new Uint8Array((runs.rows + 7) >> 3);
  let o = 0;
  for (let k = 0; k < runs.count; k++) {
    for (let i = offset + runs.starts[k]!, e = offset + runs.ends[k]!; i < e; i++, o++) {
      if ((bits[i >> 3]! >> (i & 7)) & 1) out[o >> 3]! |= 1 << (o & 7);
    }
  }
  return out;
}

/** The validity of the rows in `runs`: no bitmap when the data has no nulls. */
function takeValidity(data: Data, runs: Runs): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (!data.nullBitmap || data.nullBitmap.length === 0 || data.nullCount === 0 || data.typeId === Type.Null) return { nullBitmap: undefined, nullCount: 0 };
  const nullBitmap = takeBits(data.nullBitmap, data.offset, runs);
  let valid = 0;
  for (let i = 0; i < nullBitmap.length; i++) valid += popcount(nullBitmap[i]!);
  return { nullBitmap, nullCount: runs.rows - valid };
}

function popcount(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** New offsets for the rows in `runs`, and the runs of child positions (or bytes) they cover. */
function takeOffsets(src: Int32Array, runs: Runs): { offsets: Int32Array; at: Runs } {
  const offsets = new Int32Array(runs.rows + 1);
  const starts = new Int32Array(runs.count);
  const ends = new Int32Array(runs.count);
  let o = 0;
  let total = 0;
  for (let k = 0; k < runs.count; k++) {
    const s = runs.starts[k]!;
    const e = runs.ends[k]!;
    const base = src[s]!;
    starts[k] = base;
    ends[k] = src[e]!;
    for (let i = s; i < e; i++) offsets[++o] = total + src[i + 1]! - base;
    total += src[e]! - base;
  }
  return { offsets, at: { starts, ends, count: runs.count, rows: total } };
}

/** The runs of a fixed-size list's child rows: each row is `size` child rows. */
function scaleRuns(runs: Runs, size: number): Runs {
  const starts = new Int32Array(runs.count);
  const ends = new Int32Array(runs.count);
  for (let k = 0; k < runs.count; k++) {
    starts[k] = runs.starts[k]! * size;
    ends[k] = runs.ends[k]! * size;
  }
  return { starts, ends, count: runs.count, rows: runs.rows * size };
}

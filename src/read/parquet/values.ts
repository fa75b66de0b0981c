/**
 * Dense (non-null) values of one column chunk, accumulated page by page straight into typed storage:
 * fixed-width values as raw little-endian bytes, byte arrays as Arrow-style offsets + bytes,
 * booleans one byte each. Dictionary pages decode into the same shapes and indices gather from them.
 */
import { PhysicalType } from '../../../scanners/parquet/types.js';
import { decodeHybrid } from './rle.js';

/** Values of a column chunk, or of a dictionary. */
export type Values = FixedValues | ByteValues | BoolValues;

/** Fixed-width values: `count * width` bytes. */
export interface FixedValues {
  kind: 'fixed';
  width: number;
  count: number;
  bytes: Uint8Array;
}

/** Variable-length values: `offsets[i]..offsets[i+1]` in `data`. */
export interface ByteValues {
  kind: 'bytes';
  count: number;
  offsets: Int32Array;
  data: Uint8Array;
  /** Bytes of `data` in use. */
  used: number;
}

/** Booleans, one byte (0/1) per value. */
export interface BoolValues {
  kind: 'bool';
  count: number;
  bits: Uint8Array;
}

/** Width in bytes of a physical type's fixed values, or 0 for byte arrays, -1 for booleans. */
export function physicalWidth(type: number, typeLength: number | undefined): number {
  switch (type) {
    case PhysicalType.BOOLEAN: return -1;
    case PhysicalType.INT32: case PhysicalType.FLOAT: return 4;
    case PhysicalType.INT64: case PhysicalType.DOUBLE: return 8;
    case PhysicalType.INT96: return 12;
    case PhysicalType.BYTE_ARRAY: return 0;
    case PhysicalType.FIXED_LEN_BYTE_ARRAY: return typeLength ?? 0;
    default: throw new Error(`unknown physical type ${type}`);
  }
}

/** Empty storage for up to `capacity` values (`byteHint`: expected bytes of byte-array data). */
export function allocValues(width: number, capacity: number, byteHint: number): Values {
  if (width === -1) return { kind: 'bool', count: 0, bits: new Uint8Array(capacity) };
  if (width === 0) return { kind: 'bytes', count: 0, offsets: new Int32Array(capacity + 1), data: new Uint8Array(Math.max(64, byteHint)), used: 0 };
  return { kind: 'fixed', width, count: 0, bytes: new Uint8Array(capacity * width) };
}

/** Room for `extra` more bytes in a byte-array store, growing it by doubling (bounded by `budget`). */
export function reserveBytes(v: ByteValues, extra: number, budget: number): void {
  const need = v.used + extra;
  if (need <= v.data.length) return;
  if (need > budget || need > 0x7fffffff) throw new Error(`byte-array values need ${need} bytes, above the read budget`);
  let size = v.data.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(Math.min(size, Math.max(need, Math.min(budget, 0x7fffffff))));
  next.set(v.data.subarray(0, v.used));
  v.data = next;
}

/** Appends `n` PLAIN values from `bytes[pos, end)`; returns the position after them. */
export function readPlain(bytes: Uint8Array, pos: number, end: number, n: number, out: Values, budget: number): number {
  if (out.kind === 'fixed') {
    const len = n * out.width;
    if (pos + len > end) throw new Error(`${n} PLAIN values need ${len} bytes, the page has ${end - pos}`);
    if ((out.count + n) * out.width > out.bytes.length) throw new Error('more values than the column chunk declares');
    out.bytes.set(bytes.subarray(pos, pos + len), out.count * out.width);
    out.count += n;
    return pos + len;
  }
  if (out.kind === 'bool') {
    if (pos + ((n + 7) >> 3) > end) throw new Error(`${n} PLAIN booleans run past the end of the page`);
    if (out.count + n > out.bits.length) throw new Error('more values than the column chunk declares');
    const bits = out.bits;
    for (let i = 0; i < n; i++) bits[out.count + i] = (bytes[pos + (i >> 3)]! >> (i & 7)) & 1;
    out.count += n;
    return pos + ((n + 7) >> 3);
  }
  if (out.count + n + 1 > out.offsets.length) throw new Error('more values than the column chunk declares');
  reserveBytes(out, end - pos, budget); // the values' bytes are fewer than the page's
  const { offsets } = out;
  const data = out.data;
  let used = out.used;
  let k = out.count;
  for (let i = 0; i < n; i++) {
    if (pos + 4 > end) throw new Error('PLAIN byte array length runs past the end of the page');
    const len = (bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16)) + bytes[pos + 3]! * 0x1000000;
    pos += 4;
    if (len > end - pos) throw new Error(`PLAIN byte array of ${len} bytes runs past the end of the page`);
    if (len < 32) for (let j = 0; j < len; j++) data[used + j] = bytes[pos + j]!;
    else data.set(bytes.subarray(pos, pos + len), used);
    pos += len;
    used += len;
    offsets[++k] = used;
  }
  out.used = used;
  out.count = k;
  return pos;
}

/** Appends `n` values picked from `dict` by RLE/bit-packed indices at `bytes[pos, end)` (after the bit-width byte). */
export function readDictionaryIndices(bytes: Uint8Array, pos: number, end: number, n: number, dict: Values, out: Values, budget: number, scratch: { idx: Int32Array }): void {
  if (n === 0) return;
  if (pos >= end) throw new Error('dictionary-encoded page has no bit width');
  const bitWidth = bytes[pos]!;
  if (scratch.idx.length < n) scratch.idx = new Int32Array(n);
  const idx = scratch.idx;
  decodeHybrid(bytes, pos + 1, end, bitWidth, n, idx, 0);
  const size = dict.count;
  for (let i = 0; i < n; i++) if (idx[i]! >= size) throw new Error(`dictionary index ${idx[i]} is past the dictionary's ${size} entries`);
  gather(dict, idx, n, out, budget);
}

function gather(dict: Values, idx: Int32Array, n: number, out: Values, budget: number): void {
  if (out.kind === 'fixed' && dict.kind === 'fixed') {
    const w = out.width;
    if ((out.count + n) * w > out.bytes.length) throw new Error('more values than the column chunk declares');
    const base = out.count;
    if (w === 4 || w === 8) {
      const words = w >> 2;
      const src = new Uint32Array(dict.bytes.buffer, dict.bytes.byteOffset, dict.count * words);
      const dst = new Uint32Array(out.bytes.buffer, out.bytes.byteOffset, out.bytes.length >> 2);
      if (words === 1) for (let i = 0; i < n; i++) dst[base + i] = src[idx[i]!]!;
      else {
        for (let i = 0; i < n; i++) {
          const s = idx[i]! * 2;
          const d = (base + i) * 2;
          dst[d] = src[s]!;
          dst[d + 1] = src[s + 1]!;
        }
      }
    } else {
      for (let i = 0; i < n; i++) out.bytes.set(dict.bytes.subarray(idx[i]! * w, idx[i]! * w + w), (base + i) * w);
    }
    out.count += n;
    return;
  }
  if (out.kind === 'bytes' && dict.kind === 'bytes') {
    if (out.count + n + 1 > out.offsets.length) throw new Error('more values than the column chunk declares');
    let total = 0;
    for (let i = 0; i < n; i++) total += dict.offsets[idx[i]! + 1]! - dict.offsets[idx[i]!]!;
    reserveBytes(out, total, budget);
    const { offsets, data } = out;
    let used = out.used;
    let k = out.count;
    for (let i = 0; i < n; i++) {
      const s = dict.offsets[idx[i]!]!;
      const e = dict.offsets[idx[i]! + 1]!;
      if (e - s < 16) for (let j = s; j < e; j++) data[used++] = dict.data[j]!;
      else {
        data.set(dict.data.subarray(s, e), used);
        used += e - s;
      }
      offsets[++k] = used;
    }
    out.used = used;
    out.count = k;
    return;
  }
  if (out.kind === 'bool' && dict.kind === 'bool') {
    for (let i = 0; i < n; i++) out.bits[out.count + i] = dict.bits[idx[i]!]!;
    out.count += n;
    return;
  }
  throw new Error('dictionary and column values differ in kind');
}

/**
 * Turns a chunk's dense physical values into the storage of its Arrow type: typed-array views where
 * the bytes already match (ints, floats, dates, timestamps), narrowing copies for small ints, and
 * conversions for decimals and INT96 timestamps. A physical/Arrow pairing not listed is refused.
 */
import { DataType, Type } from 'apache-arrow';
import { PhysicalType } from '../../../scanners/parquet/types.js';
import { Unsupported } from './rare-encodings.js';
import type { Values } from './values.js';

/** Dense values in Arrow storage: `stride` array elements per value (fixed), or offsets + bytes. */
export type ArrowValues =
  | { kind: 'fixed'; array: ArrowTypedArray; stride: number; count: number }
  | { kind: 'bytes'; offsets: Int32Array; data: Uint8Array; count: number }
  | { kind: 'bool'; bits: Uint8Array; count: number };

/** Typed arrays Arrow uses for fixed-width values. */
export type ArrowTypedArray =
  | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** Converts dense physical `values` to the storage of Arrow type `type`. */
export function toArrowValues(values: Values, physical: number, type: DataType): ArrowValues {
  const t = type.typeId;
  if (values.kind === 'bool') {
    if (t !== Type.Bool) throw mismatch(physical, type);
    return { kind: 'bool', bits: values.bits, count: values.count };
  }
  if (values.kind === 'bytes') {
    if (t === Type.Utf8 || t === Type.Binary) {
      return { kind: 'bytes', offsets: values.offsets.subarray(0, values.count + 1), data: values.data.subarray(0, values.used), count: values.count };
    }
    if (t === Type.Decimal) return decimalFromBytes(values, type);
    throw mismatch(physical, type);
  }
  const { bytes, count, width } = values;
  const buf = bytes.buffer;
  const off = bytes.byteOffset;
  const fixed = (array: ArrowTypedArray, stride = 1): ArrowValues => ({ kind: 'fixed', array, stride, count });
  switch (physical) {
    case PhysicalType.INT32: {
      const v = new Int32Array(buf, off, count);
      switch (t) {
        case Type.Int: {
          const it = type as unknown as { bitWidth: number; isSigned: boolean };
          if (it.bitWidth === 32) return fixed(it.isSigned ? v : new Uint32Array(buf, off, count));
          if (it.bitWidth === 8) return fixed(it.isSigned ? Int8Array.from(v) : Uint8Array.from(v));
          if (it.bitWidth === 16) return fixed(it.isSigned ? Int16Array.from(v) : Uint16Array.from(v));
          break;
        }
        case Type.Date:
          if ((type as unknown as { unit: number }).unit === 0) return fixed(v);
          break;
        case Type.Time:
          if ((type as unknown as { bitWidth: number }).bitWidth === 32) return fixed(v);
          break;
        case Type.Decimal:
          return decimalFromInts(v, count, type);
      }
      break;
    }
    case PhysicalType.INT64: {
      switch (t) {
        case Type.Int: {
          const it = type as unknown as { bitWidth: number; isSigned: boolean };
          if (it.bitWidth === 64) return fixed(it.isSigned ? new BigInt64Array(buf, off, count) : new BigUint64Array(buf, off, count));
          break;
        }
        case Type.Timestamp:
        case Type.Date:
          return fixed(new BigInt64Array(buf, off, count));
        case Type.Time:
          if ((type as unknown as { bitWidth: number }).bitWidth === 64) return fixed(new BigInt64Array(buf, off, count));
          break;
        case Type.Decimal:
          return decimalFromInts(new BigInt64Array(buf, off, count), count, type);
      }
      break;
    }
    case PhysicalType.FLOAT:
      if (t === Type.Float && (type as unknown as { precision: number }).precision === 1) return fixed(new Float32Array(buf, off, count));
      break;
    case PhysicalType.DOUBLE:
      if (t === Type.Float && (type as unknown as { precision: number }).precision === 2) return fixed(new Float64Array(buf, off, count));
      break;
    case PhysicalType.INT96:
      if (t === Type.Timestamp && (type as unknown as { unit: number }).unit === 3) return fixed(int96ToNanos(bytes, count));
      break;
    case PhysicalType.FIXED_LEN_BYTE_ARRAY:
      if (t === Type.FixedSizeBinary && (type as unknown as { byteWidth: number }).byteWidth === width) return fixed(bytes.subarray(0, count * width), width);
      if (t === Type.Float && (type as unknown as { precision: number }).precision === 0 && width === 2) return fixed(new Uint16Array(buf, off, count));
      if (t === Type.Decimal) {
        const offsets = new Int32Array(count + 1);
        for (let i = 0; i <= count; i++) offsets[i] = i * width;
        return decimalFromBytes({ kind: 'bytes', count, offsets, data: bytes, used: count * width }, type);
      }
      break;
  }
  throw mismatch(physical, type);
}

function mismatch(physical: number, type: DataType): Unsupported {
  const name = Object.entries(PhysicalType).find(([, v]) => v === physical)?.[0] ?? String(physical);
  return new Unsupported(`${name} values as Arrow ${String(type)}`);
}

function decimalWords(type: DataType): number {
  return (type as unknown as { bitWidth: number }).bitWidth === 256 ? 8 : 4;
}

/** Decimals stored as INT32/INT64: sign-extended into 128- or 256-bit little-endian words. */
function decimalFromInts(v: Int32Array | BigInt64Array, count: number, type: DataType): ArrowValues {
  const words = decimalWords(type);
  const out = new Uint32Array(count * words);
  for (let i = 0; i < count; i++) {
    const x = BigInt(v[i]!);
    const lo = Number(BigInt.asUintN(32, x));
    const hi = Number(BigInt.asUintN(32, x >> 32n));
    const fill = x < 0n ? 0xffffffff : 0;
    out[i * words] = lo;
    out[i * words + 1] = hi;
    for (let w = 2; w < words; w++) out[i * words + w] = fill;
  }
  return { kind: 'fixed', array: out, stride: words, count };
}

/** Decimals stored as big-endian two's complement bytes. */
function decimalFromBytes(values: Extract<Values, { kind: 'bytes' }>, type: DataType): ArrowValues {
  const words = decimalWords(type);
  const width = words * 4;
  const { count, offsets, data } = values;
  const out = new Uint8Array(count * width);
  for (let i = 0; i < count; i++) {
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    if (e - s > width) throw new Error(`a decimal of ${e - s} bytes does not fit ${width}`);
    const negative = e > s && (data[s]! & 0x80) !== 0;
    const base = i * width;
    for (let k = 0; k < e - s; k++) out[base + k] = data[e - 1 - k]!;
    if (negative) out.fill(0xff, base + (e - s), base + width);
  }
  return { kind: 'fixed', array: new Uint32Array(out.buffer), stride: words, count };
}

/** INT96 (nanoseconds of day, Julian day) to nanoseconds since the epoch. */
function int96ToNanos(bytes: Uint8Array, count: number): BigInt64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 12);
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    const nanos = view.getBigInt64(i * 12, true);
    const day = BigInt(view.getInt32(i * 12 + 8, true));
    const ns = (day - 2440588n) * 86400000000000n + nanos;
    // Arrow's nanosecond timestamps end in 2262: refuse rather than wrap into a wrong date.
    if (ns !== BigInt.asIntN(64, ns)) throw new Unsupported(`an INT96 timestamp outside the nanosecond range (years 1677–2262), day ${day},`);
    out[i] = ns;
  }
  return out;
}

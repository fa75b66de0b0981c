/**
 * Decodes a protobuf `vortex.scalar.ScalarValue` (vortex-proto/proto/scalar.proto), the encoding of
 * min/max statistics, into a JSON-safe value. Integers beyond 2^53 and non-finite floats become strings;
 * decimals (stored as little-endian two's-complement bytes) become decimal strings with the dtype's
 * scale; other bytes become base64.
 */
import { ProtoReader, type JsonValue } from '../../src/scanner.js';
import type { VortexDType } from './dtype.js';

// `oneof kind` field numbers.
const NULL_VALUE = 1, BOOL = 2, INT64 = 3, UINT64 = 4, F32 = 5, F64 = 6, STRING = 7, BYTES = 8, LIST = 9, F16 = 10;
const MAX_LIST_DEPTH = 16;
/** Wire type each known field must have (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
const WIRE_TYPES: Record<number, number> = {
  [NULL_VALUE]: 0, [BOOL]: 0, [INT64]: 0, [UINT64]: 0, [F32]: 5, [F64]: 1, [STRING]: 2, [BYTES]: 2, [LIST]: 2, [F16]: 0,
};

/**
 * The value held by `bytes`, read as a value of `dtype`; `undefined` for a kind that has no JSON form
 * here (variant scalars). Throws RangeError on malformed protobuf (the caller turns it into a warning).
 */
export function decodeScalar(bytes: Uint8Array, dtype: VortexDType | undefined, depth = 0): JsonValue | undefined {
  if (depth > MAX_LIST_DEPTH) throw new RangeError('scalar: lists nested too deeply');
  const r = new ProtoReader(bytes);
  let out: JsonValue | undefined = null; // an empty message is the default: a null scalar
  for (let f = r.next(); f; f = r.next()) {
    const expected = WIRE_TYPES[f.no];
    if (expected !== undefined && expected !== f.wireType) {
      throw new RangeError(`scalar: field ${f.no} has wire type ${f.wireType}, expected ${expected}`);
    }
    switch (f.no) {
      case NULL_VALUE: r.varint(); out = null; break;
      case BOOL: out = r.bool(); break;
      case INT64: out = integer(zigzag(r.varintBig())); break;
      case UINT64: out = integer(r.varintBig()); break;
      case F32: out = float(r.float()); break;
      case F64: out = float(r.double()); break;
      case STRING: out = r.string(); break;
      case BYTES: out = bytesValue(r.bytesField(), storageOf(dtype)); break;
      case LIST: out = list(r.bytesField(), storageOf(dtype), depth); break;
      case F16: out = float(halfToNumber(Number(r.varintBig() & 0xffffn))); break;
      default: r.skip(f.wireType); out = undefined;
    }
  }
  return out;
}

/** `ScalarValue` field number of the signed and unsigned integer kinds. */
export const INT64_KIND = INT64, UINT64_KIND = UINT64;

/** The field number of the first field of a `ScalarValue` message (its `oneof kind`), if any. */
export function scalarKind(bytes: Uint8Array | undefined): number | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return new ProtoReader(bytes).next()?.no;
  } catch {
    return undefined;
  }
}

function storageOf(dtype: VortexDType | undefined): VortexDType | undefined {
  let d = dtype;
  while (d?.kind === 'extension') d = d.storage;
  return d;
}

function list(bytes: Uint8Array, dtype: VortexDType | undefined, depth: number): JsonValue[] {
  const element = dtype?.kind === 'list' || dtype?.kind === 'fixed_size_list' ? dtype.element : undefined;
  const r = new ProtoReader(bytes);
  const values: JsonValue[] = [];
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) values.push(decodeScalar(r.bytesField(), element, depth + 1) ?? null);
    else r.skip(f.wireType);
  }
  return values;
}

function zigzag(n: bigint): bigint {
  return (n >> 1n) ^ -(n & 1n);
}

function integer(n: bigint): number | string {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function float(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

function bytesValue(b: Uint8Array, dtype: VortexDType | undefined): string {
  if (dtype?.kind === 'decimal' && b.length > 0 && b.length <= 32) return decimalString(b, dtype.scale);
  return Buffer.from(b).toString('base64');
}

/** Little-endian two's-complement integer `b`, shown with `scale` digits after the point. */
export function decimalString(b: Uint8Array, scale: number): string {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  n = BigInt.asIntN(b.length * 8, n);
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits = n === 0n ? '0' : digits + '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

/** IEEE 754 half-precision bits to a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

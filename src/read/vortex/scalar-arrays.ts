/**
 * The Vortex arrays whose values come from protobuf scalars in their metadata: `vortex.constant` (one
 * `ScalarValue` repeated) and `vortex.sequence` (base + i × multiplier). Every value is checked to fit the
 * column's primitive type before it is written; malformed metadata throws `RangeError`.
 */
import { ProtoReader } from '../../scanner.js';
import type { PType, VortexDType } from '../../../scanners/vortex/dtype.js';
import type { ArrayNode } from './array-segment.js';
import { PTYPE_ARRAYS, type Allocator, type Decoded, type Validity } from './columns.js';
import { UnsupportedEncoding } from './unsupported.js';

/** A protobuf `ScalarValue` (vortex-proto scalar.proto) repeated `len` times. */
export function constant(bytes: Uint8Array, d: VortexDType, len: number, alloc: Allocator): Decoded {
  const value = scalar(bytes);
  const allNull = (): Validity => {
    if (!d.nullable) throw new RangeError('a null constant in a non-nullable column');
    alloc.take(len, 'validity');
    return new Uint8Array(len);
  };
  if (d.kind === 'null') return { kind: 'null', len };
  if (value.kind === 'null' && d.kind === 'struct') throw new UnsupportedEncoding('a null struct constant (vortex.constant)');
  switch (d.kind) {
    case 'bool':
      alloc.take(len, 'booleans');
      if (value.kind === 'null') return { kind: 'bool', len, bits: new Uint8Array(len), valid: allNull() };
      if (value.kind !== 'bool') throw new RangeError(`constant of a bool column holds a ${value.kind}`);
      return { kind: 'bool', len, bits: new Uint8Array(len).fill(value.v ? 1 : 0), valid: null };
    case 'primitive': {
      const { width, make } = PTYPE_ARRAYS[d.ptype];
      alloc.take(len * width, 'constant values');
      const values = make(len);
      if (value.kind === 'null') return { kind: 'prim', ptype: d.ptype, len, values, valid: allNull() };
      values.fill(primitiveValue(value, d.ptype) as never);
      return { kind: 'prim', ptype: d.ptype, len, values, valid: null };
    }
    case 'utf8': case 'binary': {
      if (value.kind === 'null') return { kind: 'bin', len, offsets: new Int32Array(len + 1), bytes: new Uint8Array(0), valid: allNull() };
      if (value.kind !== 'bytes') throw new RangeError(`constant of a ${d.kind} column holds a ${value.kind}`);
      const one = value.v;
      alloc.take(one.length * len + 4 * (len + 1), 'constant strings');
      const out = new Uint8Array(one.length * len);
      const offsets = new Int32Array(len + 1);
      for (let i = 0; i < len; i++) {
        out.set(one, i * one.length);
        offsets[i + 1] = (i + 1) * one.length;
      }
      return { kind: 'bin', len, offsets, bytes: out, valid: null };
    }
    default:
      throw new UnsupportedEncoding(`a constant (vortex.constant) of a ${d.kind} column`);
  }
}

type Scalar = { kind: 'null' } | { kind: 'bool'; v: boolean } | { kind: 'int'; v: bigint } | { kind: 'float'; v: number; f16?: number } | { kind: 'bytes'; v: Uint8Array };

function scalar(bytes: Uint8Array): Scalar {
  const r = new ProtoReader(bytes);
  let out: Scalar = { kind: 'null' };
  for (let f = r.next(); f; f = r.next()) {
    switch (f.no) {
      case 1: r.varint(); out = { kind: 'null' }; break;
      case 2: out = { kind: 'bool', v: r.bool() }; break;
      case 3: { const n = r.varintBig(); out = { kind: 'int', v: (n >> 1n) ^ -(n & 1n) }; break; } // sint64
      case 4: out = { kind: 'int', v: r.varintBig() }; break;
      case 5: out = { kind: 'float', v: r.float() }; break;
      case 6: out = { kind: 'float', v: r.double() }; break;
      case 7: case 8: out = { kind: 'bytes', v: r.bytesField() }; break;
      case 10: { const bits = Number(r.varintBig() & 0xffffn); out = { kind: 'float', v: NaN, f16: bits }; break; }
      default: throw new UnsupportedEncoding(`a scalar of kind ${f.no}`);
    }
  }
  return out;
}

const INT_RANGES: Partial<Record<PType, [bigint, bigint]>> = {
  u8: [0n, 255n], u16: [0n, 65535n], u32: [0n, 4294967295n], u64: [0n, 18446744073709551615n],
  i8: [-128n, 127n], i16: [-32768n, 32767n], i32: [-2147483648n, 2147483647n], i64: [-9223372036854775808n, 9223372036854775807n],
};

/** A scalar as a value for a typed array of `ptype` (bigint for 64-bit integers, f16 as its bits). */
function primitiveValue(s: Scalar, ptype: PType): number | bigint {
  const range = INT_RANGES[ptype];
  if (range) {
    if (s.kind !== 'int' || s.v < range[0] || s.v > range[1]) throw new RangeError(`constant ${s.kind === 'int' ? s.v : s.kind} does not fit ${ptype}`);
    return ptype === 'u64' || ptype === 'i64' ? s.v : Number(s.v);
  }
  if (s.kind !== 'float') throw new RangeError(`constant of an ${ptype} column holds a ${s.kind}`);
  if (ptype === 'f16') {
    if (s.f16 === undefined) throw new RangeError('f16 constant is not stored as f16 bits');
    return s.f16;
  }
  return s.v;
}

/** `vortex.sequence`: value i = base + i × multiplier (integers; metadata holds both as scalars). */
export function sequence(node: ArrayNode, ptype: PType, len: number, alloc: Allocator): Decoded {
  if (node.buffers.length !== 0 || node.children.length !== 0) throw new RangeError('sequence array has buffers or children');
  const r = new ProtoReader(node.metadata);
  let base: Scalar | undefined, step: Scalar | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) base = scalar(r.bytesField());
    else if (f.no === 2 && f.wireType === 2) step = scalar(r.bytesField());
    else r.skip(f.wireType);
  }
  const range = INT_RANGES[ptype];
  if (!range) throw new UnsupportedEncoding(`vortex.sequence of ${ptype}`);
  if (base?.kind !== 'int' || step?.kind !== 'int') throw new RangeError('sequence metadata lacks an integer base and multiplier');
  const b = base.v, m = step.v;
  const last = b + BigInt(Math.max(len - 1, 0)) * m;
  for (const v of [b, last]) if (v < range[0] || v > range[1]) throw new RangeError(`sequence value ${v} does not fit ${ptype}`);
  const { width, make } = PTYPE_ARRAYS[ptype];
  alloc.take(len * width, 'sequence values');
  const values = make(len);
  if (ptype === 'u64' || ptype === 'i64') for (let i = 0; i < len; i++) (values as BigInt64Array)[i] = b + BigInt(i) * m;
  else {
    const nb = Number(b), nm = Number(m);
    for (let i = 0; i < len; i++) (values as Int32Array)[i] = nb + i * nm; // exact: every value fits 32 bits
  }
  return { kind: 'prim', ptype, len, values, valid: null };
}

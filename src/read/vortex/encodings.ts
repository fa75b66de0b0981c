/**
 * Decoding of the Vortex array encodings whose serialized form is simple and documented by their
 * `deserialize` in vortex-array (0.36–0.74): the canonical ones (`vortex.null`, `vortex.bool`,
 * `vortex.primitive`, `vortex.struct`, `vortex.varbinview`, `vortex.varbin`, `vortex.ext`, `vortex.decimal`,
 * `vortex.list`, `vortex.listview`, `vortex.fixed_size_list`) and the cheap
 * ones (`vortex.constant`, `vortex.sequence`, `vortex.dict`, `vortex.chunked`, `vortex.masked`,
 * `vortex.zigzag`). Every other encoding —
 * the compressed ones the default writer picks (FastLanes bitpacking / FoR / delta / RLE, ALP, FSST,
 * run-end, sparse, pco, zstd, …) — is refused with {@link UnsupportedEncoding}, never guessed.
 * Malformed input throws `RangeError` (the reader turns it into `CORRUPT_FILE`).
 */
import { ProtoReader } from '../../scanner.js';
import { PTYPES, type PType, type VortexDType } from '../../../scanners/vortex/dtype.js';
import type { ArrayNode } from './array-segment.js';
import { constant, sequence } from './scalar-arrays.js';
import { UnsupportedEncoding } from './unsupported.js';
import { PTYPE_ARRAYS, concat, gather, slice, take, valuesOf, type Allocator, type Decoded, type Validity } from './columns.js';

/** Encodings this module decodes. */
export const DECODED_ENCODINGS = [
  'vortex.null', 'vortex.bool', 'vortex.primitive', 'vortex.struct', 'vortex.varbinview', 'vortex.varbin', 'vortex.ext',
  'vortex.decimal', 'vortex.list', 'vortex.listview', 'vortex.fixed_size_list', 'vortex.masked', 'vortex.zigzag',
  'vortex.constant', 'vortex.sequence', 'vortex.dict', 'vortex.chunked',
] as const;

const BOOL: VortexDType = { kind: 'bool', nullable: false };
const MAX_DEPTH = 32;

/** Decodes `node` as `len` values of `dtype`. */
export function decodeArray(node: ArrayNode, dtype: VortexDType, len: number, alloc: Allocator, depth = 0): Decoded {
  if (depth > MAX_DEPTH) throw new RangeError(`array tree nested deeper than ${MAX_DEPTH}`);
  const child = (i: number, d: VortexDType, n: number): Decoded => {
    const c = node.children[i];
    if (!c) throw new RangeError(`${node.encoding} array lacks child ${i}`);
    return decodeArray(c, d, n, alloc, depth + 1);
  };
  const validity = (i: number): Validity => {
    if (node.children.length <= i) return null;
    if (!dtype.nullable) throw new RangeError(`${node.encoding} array of a non-nullable type has a validity child`);
    const v = child(i, BOOL, len);
    return v.kind === 'bool' ? v.bits : null;
  };
  const storage = storageOf(dtype);
  switch (node.encoding) {
    case 'vortex.null':
      if (storage.kind !== 'null') break;
      return { kind: 'null', len };
    case 'vortex.primitive': {
      if (storage.kind !== 'primitive') break;
      expectEmpty(node);
      const bytes = oneBuffer(node);
      const width = PTYPE_ARRAYS[storage.ptype].width;
      if (bytes.length !== width * len) throw new RangeError(`primitive buffer holds ${bytes.length} bytes, ${len} ${storage.ptype} values need ${width * len}`);
      alloc.take(bytes.length, 'primitive values');
      return { kind: 'prim', ptype: storage.ptype, len, values: valuesOf(storage.ptype, bytes), valid: validity(0) };
    }
    case 'vortex.bool': {
      if (storage.kind !== 'bool') break;
      const offset = protoFields(node.metadata).get(1) ?? 0n;
      const bytes = oneBuffer(node);
      if (offset >= 8n || bytes.length * 8 < len + Number(offset)) throw new RangeError(`bool buffer of ${bytes.length} bytes (bit offset ${offset}) cannot hold ${len} values`);
      alloc.take(len, 'booleans');
      const bits = new Uint8Array(len);
      for (let i = 0, b = Number(offset); i < len; i++, b++) bits[i] = (bytes[b >> 3]! >> (b & 7)) & 1;
      return { kind: 'bool', len, bits, valid: validity(0) };
    }
    case 'vortex.struct': {
      if (storage.kind !== 'struct') break;
      expectEmpty(node);
      const n = storage.fields.length;
      if (node.children.length !== n && node.children.length !== n + 1) throw new RangeError(`struct array has ${node.children.length} children for ${n} fields`);
      const v = node.children.length === n + 1 ? 1 : 0;
      const valid = v ? validity(0) : null;
      return { kind: 'struct', len, fields: storage.fields.map((f, i) => child(i + v, f, len)), valid };
    }
    case 'vortex.varbinview':
      if (storage.kind !== 'utf8' && storage.kind !== 'binary') break;
      expectEmpty(node);
      return varBinView(node, len, validity(0), alloc);
    case 'vortex.varbin': {
      if (storage.kind !== 'utf8' && storage.kind !== 'binary') break;
      const ptype = ptypeOf(protoFields(node.metadata).get(1) ?? 0n);
      if (node.children.length > 2) throw new RangeError(`varbin array has ${node.children.length} children`);
      const offsets = child(0, { kind: 'primitive', ptype, nullable: false }, len + 1);
      return varBin(oneBuffer(node), offsets, len, validity(1), alloc);
    }
    case 'vortex.ext': {
      if (dtype.kind !== 'extension') break;
      expectEmpty(node);
      return child(0, dtype.storage, len);
    }
    case 'vortex.decimal': {
      if (storage.kind !== 'decimal') break;
      const code = Number(protoFields(node.metadata).get(1) ?? 0n);
      if (!(code >= 0 && code <= 5)) throw new RangeError(`unknown decimal value type ${code}`);
      return decimal(oneBuffer(node), 1 << code, storage.precision <= 38 ? 16 : 32, len, validity(0), alloc);
    }
    case 'vortex.fixed_size_list': {
      if (storage.kind !== 'fixed_size_list') break;
      expectEmpty(node);
      if (node.buffers.length !== 0 || node.children.length < 1 || node.children.length > 2) throw new RangeError('fixed-size list array needs no buffers and 1 or 2 children');
      const size = storage.size;
      alloc.take(len * size, 'vector elements'); // bounds len × size before the elements are decoded
      return { kind: 'fsl', len, size, child: child(0, storage.element, len * size), valid: validity(1) };
    }
    case 'vortex.list': {
      if (storage.kind !== 'list') break;
      const m = protoFields(node.metadata);
      const elementsLen = Number(m.get(1) ?? 0n);
      if (node.children.length < 2 || node.children.length > 3) throw new RangeError(`list array has ${node.children.length} children`);
      const offsets = child(1, { kind: 'primitive', ptype: ptypeOf(m.get(2) ?? 0n), nullable: false }, len + 1);
      const elements = child(0, storage.element, elementsLen);
      return list(elements, offsets, undefined, len, validity(2), alloc);
    }
    case 'vortex.listview': {
      if (storage.kind !== 'list') break;
      const m = protoFields(node.metadata);
      if (node.buffers.length !== 0 || node.children.length < 3 || node.children.length > 4) throw new RangeError(`list view array has ${node.children.length} children`);
      const offsets = child(1, { kind: 'primitive', ptype: ptypeOf(m.get(2) ?? 0n), nullable: false }, len);
      const sizes = child(2, { kind: 'primitive', ptype: ptypeOf(m.get(3) ?? 0n), nullable: false }, len);
      const elements = child(0, storage.element, Number(m.get(1) ?? 0n));
      return list(elements, offsets, sizes, len, validity(3), alloc);
    }
    case 'vortex.masked': {
      // The child without nulls, then the validity child (absent: all valid).
      expectEmpty(node);
      if (node.buffers.length !== 0 || node.children.length < 1 || node.children.length > 2) throw new RangeError('masked array needs no buffers and 1 or 2 children');
      const inner = child(0, { ...dtype, nullable: false } as VortexDType, len);
      if (inner.kind === 'null') throw new RangeError('masked array of nulls');
      return { ...inner, valid: validity(1) };
    }
    case 'vortex.zigzag': {
      if (storage.kind !== 'primitive' || !storage.ptype.startsWith('i')) break;
      expectEmpty(node);
      const unsigned = ('u' + storage.ptype.slice(1)) as PType;
      const enc = child(0, { kind: 'primitive', ptype: unsigned, nullable: dtype.nullable }, len);
      if (enc.kind !== 'prim') throw new RangeError('zigzag child is not an integer array');
      const { make } = PTYPE_ARRAYS[storage.ptype];
      alloc.take(enc.values.byteLength, 'zigzag values');
      const values = make(len);
      if (storage.ptype === 'i64') {
        const u = enc.values as BigUint64Array, out = values as BigInt64Array;
        for (let i = 0; i < len; i++) out[i] = (u[i]! >> 1n) ^ -(u[i]! & 1n);
      } else {
        const u = enc.values as Uint32Array, out = values as Int32Array;
        for (let i = 0; i < len; i++) out[i] = (u[i]! >>> 1) ^ -(u[i]! & 1);
      }
      return { kind: 'prim', ptype: storage.ptype, len, values, valid: enc.valid };
    }
    case 'vortex.constant':
      return constant(oneBuffer(node), storage, len, alloc);
    case 'vortex.sequence':
      if (storage.kind !== 'primitive') break;
      return sequence(node, storage.ptype, len, alloc);
    case 'vortex.dict': {
      const m = protoFields(node.metadata);
      const valuesLen = Number(m.get(1) ?? 0n);
      const codesNullable = m.has(3) ? m.get(3) !== 0n : dtype.nullable;
      const codes = child(0, { kind: 'primitive', ptype: ptypeOf(m.get(2) ?? 0n), nullable: codesNullable }, len);
      const values = child(1, dtype, valuesLen);
      if (codes.kind !== 'prim') throw new RangeError('dictionary codes are not integers');
      return take(values, codes.values, codes.valid, alloc);
    }
    case 'vortex.chunked': {
      expectEmpty(node);
      if (node.children.length === 0) throw new RangeError('chunked array has no chunk offsets');
      const offsets = child(0, { kind: 'primitive', ptype: 'u64', nullable: false }, node.children.length);
      if (offsets.kind !== 'prim') throw new RangeError('chunk offsets are not integers');
      const ends = Array.from(offsets.values as BigUint64Array, Number);
      if (ends[0] !== 0 || ends[ends.length - 1] !== len) throw new RangeError(`chunk offsets [${ends[0]} … ${ends[ends.length - 1]}] do not cover the ${len} rows`);
      const pieces: Decoded[] = [];
      for (let i = 1; i < ends.length; i++) {
        if (ends[i]! < ends[i - 1]!) throw new RangeError('chunk offsets decrease');
        pieces.push(child(i, dtype, ends[i]! - ends[i - 1]!));
      }
      return pieces.length === 0 ? emptyOf(storage) : concat(pieces, alloc);
    }
    default:
      throw new UnsupportedEncoding(`encoding ${node.encoding}`);
  }
  throw new UnsupportedEncoding(`encoding ${node.encoding} for a ${dtype.kind} column`);
}

function storageOf(d: VortexDType): VortexDType {
  let s = d;
  while (s.kind === 'extension') s = s.storage;
  return s;
}

function oneBuffer(node: ArrayNode): Uint8Array {
  if (node.buffers.length !== 1) throw new RangeError(`${node.encoding} array has ${node.buffers.length} buffers, expected 1`);
  return node.buffers[0]!;
}

function expectEmpty(node: ArrayNode): void {
  if (node.metadata.length !== 0) throw new RangeError(`${node.encoding} array has ${node.metadata.length} bytes of metadata, expected none`);
}

function ptypeOf(code: bigint): PType {
  const p = PTYPES[Number(code)];
  if (p === undefined || code > 10n) throw new RangeError(`unknown primitive type ${code}`);
  return p;
}

/** Varint fields of a small protobuf metadata message, by field number. */
export function protoFields(bytes: Uint8Array): Map<number, bigint> {
  const out = new Map<number, bigint>();
  const r = new ProtoReader(bytes);
  for (let f = r.next(); f; f = r.next()) {
    if (f.wireType === 0) out.set(f.no, r.varintBig());
    else r.skip(f.wireType);
  }
  return out;
}

function emptyOf(d: VortexDType): Decoded {
  switch (d.kind) {
    case 'null': return { kind: 'null', len: 0 };
    case 'bool': return { kind: 'bool', len: 0, bits: new Uint8Array(0), valid: null };
    case 'primitive': return { kind: 'prim', ptype: d.ptype, len: 0, values: PTYPE_ARRAYS[d.ptype].make(0), valid: null };
    case 'utf8': case 'binary': return { kind: 'bin', len: 0, offsets: new Int32Array(1), bytes: new Uint8Array(0), valid: null };
    case 'struct': return { kind: 'struct', len: 0, fields: d.fields.map((f) => emptyOf(storageOf(f))), valid: null };
    case 'decimal': return { kind: 'wide', width: d.precision <= 38 ? 16 : 32, len: 0, bytes: new Uint8Array(0), valid: null };
    case 'list': return { kind: 'list', len: 0, offsets: new Int32Array(1), child: emptyOf(storageOf(d.element)), valid: null };
    case 'fixed_size_list': return { kind: 'fsl', len: 0, size: d.size, child: emptyOf(storageOf(d.element)), valid: null };
    default: throw new UnsupportedEncoding(`${d.kind} columns`);
  }
}

/** Decimals stored `from` bytes wide, widened (sign-extended) or narrowed (checked) to Arrow's `to`. */
function decimal(buffer: Uint8Array, from: number, to: number, len: number, valid: Validity, alloc: Allocator): Decoded {
  if (buffer.length !== from * len) throw new RangeError(`decimal buffer holds ${buffer.length} bytes, ${len} values of ${from} bytes need ${from * len}`);
  alloc.take(to * len, 'decimals');
  const bytes = new Uint8Array(to * len);
  for (let i = 0; i < len; i++) {
    const src = buffer.subarray(i * from, (i + 1) * from);
    const sign = src[from - 1]! & 0x80 ? 0xff : 0;
    const n = Math.min(from, to);
    bytes.set(src.subarray(0, n), i * to);
    if (to > from) bytes.fill(sign, i * to + from, (i + 1) * to);
    else if (from > to) {
      const kept = bytes[i * to + to - 1]! & 0x80 ? 0xff : 0;
      for (let k = to; k < from; k++) if (src[k] !== kept) throw new RangeError(`decimal value ${i} does not fit ${to} bytes`);
    }
  }
  return { kind: 'wide', width: to, len, bytes, valid };
}

/**
 * A list from its elements and offsets (`len + 1`, `vortex.list`) or offsets and sizes (`len` each,
 * `vortex.listview`, rows may point anywhere in the elements): Arrow's offsets + elements in row order.
 */
function list(elements: Decoded, offsets: Decoded, sizes: Decoded | undefined, len: number, valid: Validity, alloc: Allocator): Decoded {
  if (offsets.kind !== 'prim' || (sizes && sizes.kind !== 'prim')) throw new RangeError('list offsets are not integers');
  const o = offsets.values;
  alloc.take(4 * (len + 1), 'list offsets');
  const out = new Int32Array(len + 1);
  if (!sizes) {
    const first = Number(o[0]!), last = Number(o[len]!);
    if (!(first >= 0 && last >= first && last <= elements.len)) throw new RangeError(`list offsets [${first}, ${last}] do not fit the ${elements.len} elements`);
    for (let i = 1; i <= len; i++) {
      const x = Number(o[i]!);
      if (x < Number(o[i - 1]!)) throw new RangeError(`list offsets decrease at row ${i}`);
      out[i] = x - first;
    }
    return { kind: 'list', len, offsets: out, child: slice(elements, first, last), valid };
  }
  const z = (sizes as Extract<Decoded, { kind: 'prim' }>).values;
  let total = 0;
  for (let i = 0; i < len; i++) {
    const start = Number(o[i]!), n = Number(z[i]!);
    if (!(start >= 0 && n >= 0 && start + n <= elements.len)) throw new RangeError(`list view ${i} (offset ${start}, size ${n}) does not fit the ${elements.len} elements`);
    if (!valid || valid[i]) total += n;
    out[i + 1] = total;
  }
  alloc.take(4 * total, 'list elements');
  const index = new Int32Array(total);
  for (let i = 0, at = 0; i < len; i++) {
    if (valid && !valid[i]) continue;
    for (let k = 0, start = Number(o[i]!), n = Number(z[i]!); k < n; k++) index[at++] = start + k;
  }
  return { kind: 'list', len, offsets: out, child: gather(elements, index, null, alloc), valid };
}

/** 16-byte views: length ≤ 12 inline; longer: 4-byte prefix, buffer index, offset (as Arrow's). */
function varBinView(node: ArrayNode, len: number, valid: Validity, alloc: Allocator): Decoded {
  if (node.buffers.length < 1) throw new RangeError('varbinview array has no views buffer');
  const views = node.buffers[node.buffers.length - 1]!;
  const data = node.buffers.slice(0, -1);
  if (views.length !== 16 * len) throw new RangeError(`varbinview views buffer holds ${views.length} bytes, ${len} views need ${16 * len}`);
  const dv = new DataView(views.buffer, views.byteOffset, views.length);
  // First pass: every view must point inside its data buffer, before the output is allocated.
  let total = 0;
  for (let i = 0; i < len; i++) {
    if (valid && !valid[i]) continue;
    const n = dv.getUint32(16 * i, true);
    if (n > 12) {
      const b = dv.getUint32(16 * i + 8, true), o = dv.getUint32(16 * i + 12, true);
      const buf = data[b];
      if (!buf || o + n > buf.length) throw new RangeError(`string view ${i} points at bytes [${o}, ${o + n}) of data buffer ${b}, which does not hold them`);
    }
    total += n;
  }
  alloc.take(total + 4 * (len + 1), 'strings');
  const bytes = new Uint8Array(total);
  const offsets = new Int32Array(len + 1);
  let at = 0;
  for (let i = 0; i < len; i++) {
    if (!valid || valid[i]) {
      const n = dv.getUint32(16 * i, true);
      if (n <= 12) bytes.set(views.subarray(16 * i + 4, 16 * i + 4 + n), at);
      else {
        const o = dv.getUint32(16 * i + 12, true);
        bytes.set(data[dv.getUint32(16 * i + 8, true)]!.subarray(o, o + n), at);
      }
      at += n;
    }
    offsets[i + 1] = at;
  }
  return { kind: 'bin', len, offsets, bytes, valid };
}

function varBin(data: Uint8Array, offsets: Decoded, len: number, valid: Validity, alloc: Allocator): Decoded {
  if (offsets.kind !== 'prim' || offsets.valid) throw new RangeError('varbin offsets are not non-null integers');
  const o = offsets.values;
  const first = Number(o[0]!), last = Number(o[len]!);
  if (!(first >= 0 && last >= first && last <= data.length)) throw new RangeError(`varbin offsets [${first}, ${last}] do not fit the ${data.length}-byte buffer`);
  alloc.take(4 * (len + 1), 'string offsets');
  const out = new Int32Array(len + 1);
  for (let i = 1; i <= len; i++) {
    const x = Number(o[i]!);
    if (x < Number(o[i - 1]!)) throw new RangeError(`varbin offsets decrease at row ${i}`);
    out[i] = x - first;
  }
  return { kind: 'bin', len, offsets: out, bytes: data.subarray(first, last), valid };
}

/**
 * Decoded Vortex values before they become Arrow data: fixed-width values in a typed array, booleans
 * and validity one byte per row (cheap to slice, concatenate and gather), strings as offsets + bytes,
 * structs as their fields. Every allocation is counted against the read budget first, so an array that
 * repeats a value (constant, dictionary, views pointing at one buffer) cannot blow up memory.
 */
import { DataType, Struct, Type, makeData, type Data, type FixedSizeList, type List } from 'apache-arrow';
import type { PType } from '../../../scanners/vortex/dtype.js';

/** Fixed-width value storage. */
export type Values =
  | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Float32Array | Float64Array;

/** Per row: 1 valid, 0 null; `null` means every row is valid. */
export type Validity = Uint8Array | null;

/** A decoded column piece. */
export type Decoded =
  | { kind: 'prim'; ptype: PType; len: number; values: Values; valid: Validity }
  | { kind: 'bool'; len: number; bits: Uint8Array; valid: Validity }
  | { kind: 'bin'; len: number; offsets: Int32Array; bytes: Uint8Array; valid: Validity }
  | { kind: 'struct'; len: number; fields: Decoded[]; valid: Validity }
  | { kind: 'wide'; width: number; len: number; bytes: Uint8Array; valid: Validity } // decimals: little-endian two's complement
  | { kind: 'list'; len: number; offsets: Int32Array; child: Decoded; valid: Validity }
  | { kind: 'fsl'; len: number; size: number; child: Decoded; valid: Validity }
  | { kind: 'null'; len: number };

/** Counts bytes decoded for one read against the budget. */
export class Allocator {
  private used = 0;
  constructor(
    readonly budget: number,
    private readonly refuse: (what: string) => Error,
  ) {}

  /** Accounts for `bytes` more bytes of output, or throws. */
  take(bytes: number, what: string): void {
    this.used += bytes;
    if (!Number.isSafeInteger(bytes) || bytes < 0 || this.used > this.budget) throw this.refuse(`${what} needs more than the ${this.budget}-byte read budget`);
  }
}

/** Byte width and typed-array constructor of each primitive type. */
export const PTYPE_ARRAYS: Record<PType, { width: number; make: (n: number) => Values; view: (b: ArrayBuffer, o: number, n: number) => Values }> = {
  u8: { width: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
  u16: { width: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  u32: { width: 4, make: (n) => new Uint32Array(n), view: (b, o, n) => new Uint32Array(b, o, n) },
  u64: { width: 8, make: (n) => new BigUint64Array(n), view: (b, o, n) => new BigUint64Array(b, o, n) },
  i8: { width: 1, make: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n) },
  i16: { width: 2, make: (n) => new Int16Array(n), view: (b, o, n) => new Int16Array(b, o, n) },
  i32: { width: 4, make: (n) => new Int32Array(n), view: (b, o, n) => new Int32Array(b, o, n) },
  i64: { width: 8, make: (n) => new BigInt64Array(n), view: (b, o, n) => new BigInt64Array(b, o, n) },
  f16: { width: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  f32: { width: 4, make: (n) => new Float32Array(n), view: (b, o, n) => new Float32Array(b, o, n) },
  f64: { width: 8, make: (n) => new Float64Array(n), view: (b, o, n) => new Float64Array(b, o, n) },
};

/** `bytes` as values of `ptype` (a view when aligned, else a copy). */
export function valuesOf(ptype: PType, bytes: Uint8Array): Values {
  const { width, view } = PTYPE_ARRAYS[ptype];
  const n = bytes.length / width;
  if (bytes.byteOffset % width === 0) return view(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  const copy = bytes.slice();
  return view(copy.buffer, 0, n);
}

/** Rows [from, to) of `d`. */
export function slice(d: Decoded, from: number, to: number): Decoded {
  if (from === 0 && to === d.len) return d;
  const len = to - from;
  const valid = d.kind === 'null' ? null : d.valid && d.valid.subarray(from, to);
  switch (d.kind) {
    case 'null': return { kind: 'null', len };
    case 'prim': return { ...d, len, values: d.values.subarray(from, to) as Values, valid };
    case 'bool': return { ...d, len, bits: d.bits.subarray(from, to), valid };
    case 'struct': return { ...d, len, fields: d.fields.map((f) => slice(f, from, to)), valid };
    case 'wide': return { ...d, len, bytes: d.bytes.subarray(from * d.width, to * d.width), valid };
    case 'fsl': return { ...d, len, child: slice(d.child, from * d.size, to * d.size), valid };
    case 'list': {
      const start = d.offsets[from]!;
      const offsets = new Int32Array(len + 1);
      for (let i = 0; i <= len; i++) offsets[i] = d.offsets[from + i]! - start;
      return { kind: 'list', len, offsets, child: slice(d.child, start, d.offsets[to]!), valid };
    }
    case 'bin': {
      const start = d.offsets[from]!;
      const offsets = new Int32Array(len + 1);
      for (let i = 0; i <= len; i++) offsets[i] = d.offsets[from + i]! - start;
      return { kind: 'bin', len, offsets, bytes: d.bytes.subarray(start, d.offsets[to]!), valid };
    }
  }
}

/** The pieces one after another (all of one dtype). */
export function concat(pieces: Decoded[], alloc: Allocator): Decoded {
  if (pieces.length === 1) return pieces[0]!;
  const first = pieces[0]!;
  const len = pieces.reduce((n, p) => n + p.len, 0);
  if (first.kind === 'null') return { kind: 'null', len };
  const valid = concatValidity(pieces as Exclude<Decoded, { kind: 'null' }>[], len, alloc);
  switch (first.kind) {
    case 'prim': {
      const { width, make } = PTYPE_ARRAYS[first.ptype];
      alloc.take(len * width, 'concatenating values');
      const values = make(len);
      let at = 0;
      for (const p of pieces as (typeof first)[]) {
        (values as Uint8Array).set(p.values as Uint8Array, at);
        at += p.len;
      }
      return { kind: 'prim', ptype: first.ptype, len, values, valid };
    }
    case 'bool': {
      alloc.take(len, 'concatenating booleans');
      const bits = new Uint8Array(len);
      let at = 0;
      for (const p of pieces as (typeof first)[]) {
        bits.set(p.bits, at);
        at += p.len;
      }
      return { kind: 'bool', len, bits, valid };
    }
    case 'bin': {
      const total = (pieces as (typeof first)[]).reduce((n, p) => n + p.bytes.length, 0);
      alloc.take(total + 4 * (len + 1), 'concatenating strings');
      const bytes = new Uint8Array(total);
      const offsets = new Int32Array(len + 1);
      let row = 0, base = 0;
      for (const p of pieces as (typeof first)[]) {
        bytes.set(p.bytes, base);
        for (let i = 1; i <= p.len; i++) offsets[row + i] = base + p.offsets[i]!;
        row += p.len;
        base += p.bytes.length;
      }
      return { kind: 'bin', len, offsets, bytes, valid };
    }
    case 'struct': {
      const fields = first.fields.map((_, i) => concat((pieces as (typeof first)[]).map((p) => p.fields[i]!), alloc));
      return { kind: 'struct', len, fields, valid };
    }
    case 'wide': {
      alloc.take(len * first.width, 'concatenating decimals');
      const bytes = new Uint8Array(len * first.width);
      let at = 0;
      for (const p of pieces as (typeof first)[]) {
        bytes.set(p.bytes, at);
        at += p.bytes.length;
      }
      return { kind: 'wide', width: first.width, len, bytes, valid };
    }
    case 'fsl':
      return { kind: 'fsl', len, size: first.size, child: concat((pieces as (typeof first)[]).map((p) => p.child), alloc), valid };
    case 'list': {
      alloc.take(4 * (len + 1), 'concatenating list offsets');
      const offsets = new Int32Array(len + 1);
      let row = 0, base = 0;
      for (const p of pieces as (typeof first)[]) {
        for (let i = 1; i <= p.len; i++) offsets[row + i] = base + p.offsets[i]!;
        row += p.len;
        base += p.child.len;
      }
      return { kind: 'list', len, offsets, child: concat((pieces as (typeof first)[]).map((p) => p.child), alloc), valid };
    }
  }
}

function concatValidity(pieces: Exclude<Decoded, { kind: 'null' }>[], len: number, alloc: Allocator): Validity {
  if (pieces.every((p) => p.valid === null)) return null;
  alloc.take(len, 'concatenating validity');
  const out = new Uint8Array(len).fill(1);
  let at = 0;
  for (const p of pieces) {
    if (p.valid) out.set(p.valid, at);
    at += p.len;
  }
  return out;
}

/**
 * Rows of `values` picked by `codes` (a dictionary). A null code gives a null row; a code outside the
 * values throws `RangeError` (the caller reports a corrupt file).
 */
export function take(values: Decoded, codes: ArrayLike<number | bigint>, codeValid: Validity, alloc: Allocator): Decoded {
  const len = codes.length;
  const index = new Int32Array(len);
  for (let i = 0; i < len; i++) {
    if (codeValid && !codeValid[i]) continue; // index 0 is read and then masked
    const c = Number(codes[i]!);
    if (!(c >= 0 && c < values.len)) throw new RangeError(`dictionary code ${String(codes[i])} at row ${i} is outside the ${values.len} values`);
    index[i] = c;
  }
  if (values.len === 0 && len > 0 && codeValid?.every((v) => v === 0) !== true) throw new RangeError('dictionary codes point into an empty dictionary');
  return gather(values, index, codeValid, alloc);
}

/** Rows `index` of `d`; rows where `mask` is 0 become null (their index is not used). */
export function gather(d: Decoded, index: Int32Array, mask: Validity, alloc: Allocator): Decoded {
  const len = index.length;
  if (d.kind === 'null') return { kind: 'null', len };
  let valid: Validity = null;
  if (d.valid || mask) {
    alloc.take(len, 'dictionary validity');
    valid = new Uint8Array(len);
    for (let i = 0; i < len; i++) valid[i] = (mask ? mask[i]! : 1) && (d.valid && d.len > 0 ? d.valid[index[i]!]! : 1);
  }
  switch (d.kind) {
    case 'prim': {
      const { width, make } = PTYPE_ARRAYS[d.ptype];
      alloc.take(len * width, 'dictionary values');
      const values = make(len);
      if (d.len > 0) for (let i = 0; i < len; i++) (values as unknown as number[])[i] = (d.values as unknown as number[])[index[i]!]!;
      return { kind: 'prim', ptype: d.ptype, len, values, valid };
    }
    case 'bool': {
      alloc.take(len, 'dictionary booleans');
      const bits = new Uint8Array(len);
      if (d.len > 0) for (let i = 0; i < len; i++) bits[i] = d.bits[index[i]!]!;
      return { kind: 'bool', len, bits, valid };
    }
    case 'bin': {
      let total = 0;
      for (let i = 0; i < len; i++) if (!valid || valid[i]) total += d.offsets[index[i]! + 1]! - d.offsets[index[i]!]!;
      alloc.take(total + 4 * (len + 1), 'dictionary strings');
      const bytes = new Uint8Array(total);
      const offsets = new Int32Array(len + 1);
      let at = 0;
      for (let i = 0; i < len; i++) {
        if (!valid || valid[i]) {
          const s = d.offsets[index[i]!]!, e = d.offsets[index[i]! + 1]!;
          bytes.set(d.bytes.subarray(s, e), at);
          at += e - s;
        }
        offsets[i + 1] = at;
      }
      return { kind: 'bin', len, offsets, bytes, valid };
    }
    case 'struct':
      return { kind: 'struct', len, fields: d.fields.map((f) => gather(f, index, null, alloc)), valid };
    case 'wide': {
      alloc.take(len * d.width, 'dictionary decimals');
      const bytes = new Uint8Array(len * d.width);
      if (d.len > 0) for (let i = 0; i < len; i++) bytes.set(d.bytes.subarray(index[i]! * d.width, (index[i]! + 1) * d.width), i * d.width);
      return { kind: 'wide', width: d.width, len, bytes, valid };
    }
    case 'fsl': {
      alloc.take(4 * len * d.size, 'dictionary vectors');
      const inner = new Int32Array(len * d.size);
      if (d.len > 0) for (let i = 0; i < len; i++) for (let k = 0; k < d.size; k++) inner[i * d.size + k] = index[i]! * d.size + k;
      return { kind: 'fsl', len, size: d.size, child: gather(d.child, inner, null, alloc), valid };
    }
    case 'list': {
      let total = 0;
      for (let i = 0; i < len; i++) if (!valid || valid[i]) total += d.offsets[index[i]! + 1]! - d.offsets[index[i]!]!;
      alloc.take(4 * (total + len + 1), 'dictionary lists');
      const inner = new Int32Array(total);
      const offsets = new Int32Array(len + 1);
      let at = 0;
      for (let i = 0; i < len; i++) {
        if (!valid || valid[i]) for (let e = d.offsets[index[i]!]!; e < d.offsets[index[i]! + 1]!; e++) inner[at++] = e;
        offsets[i + 1] = at;
      }
      return { kind: 'list', len, offsets, child: gather(d.child, inner, null, alloc), valid };
    }
  }
}

/** Packs one-byte-per-row flags into an LSB-first bitmap. */
export function packBits(flags: Uint8Array): Uint8Array {
  const out = new Uint8Array((flags.length + 7) >> 3);
  for (let i = 0; i < flags.length; i++) if (flags[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Arrow data of type `type` from `d`; `RangeError` when the storage does not fit the type. */
export function toArrow(d: Decoded, type: DataType): Data {
  if (d.kind === 'null') {
    if (type.typeId !== Type.Null) throw new RangeError(`null values cannot be read as ${String(type)}`);
    return makeData({ type: type as never, length: d.len, nullCount: d.len });
  }
  let nullCount = 0;
  if (d.valid) for (let i = 0; i < d.len; i++) nullCount += d.valid[i] ? 0 : 1;
  const nullBitmap = nullCount > 0 ? packBits(d.valid!) : null;
  const base = { type: type as never, length: d.len, nullCount, nullBitmap };
  switch (d.kind) {
    case 'prim': {
      const arrayType = (type as unknown as { ArrayType?: { BYTES_PER_ELEMENT: number } }).ArrayType;
      const width = PTYPE_ARRAYS[d.ptype].width;
      // Arrow stores 64-bit dates and times as BigInt64 (apache-arrow 18): compare widths, not classes.
      if (!arrayType || arrayType.BYTES_PER_ELEMENT !== width || type.typeId === Type.Bool || type.typeId === Type.Utf8 || type.typeId === Type.Binary) {
        throw new RangeError(`${d.ptype} values cannot be read as ${String(type)}`);
      }
      return makeData({ ...base, data: d.values as never });
    }
    case 'bool':
      if (type.typeId !== Type.Bool) throw new RangeError(`booleans cannot be read as ${String(type)}`);
      return makeData({ ...base, data: packBits(d.bits) as never });
    case 'bin':
      if (type.typeId !== Type.Utf8 && type.typeId !== Type.Binary) throw new RangeError(`strings cannot be read as ${String(type)}`);
      return makeData({ ...base, valueOffsets: d.offsets, data: d.bytes } as never);
    case 'wide': {
      const bitWidth = (type as unknown as { bitWidth?: number }).bitWidth;
      if (type.typeId !== Type.Decimal || bitWidth !== d.width * 8) throw new RangeError(`${d.width}-byte decimals cannot be read as ${String(type)}`);
      const bytes = d.bytes.byteOffset % 4 === 0 ? d.bytes : d.bytes.slice();
      return makeData({ ...base, data: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) as never });
    }
    case 'fsl': {
      if (type.typeId !== Type.FixedSizeList || (type as FixedSizeList).listSize !== d.size) throw new RangeError(`vectors of ${d.size} cannot be read as ${String(type)}`);
      return makeData({ ...base, child: toArrow(d.child, (type as FixedSizeList).children[0]!.type) } as never);
    }
    case 'list':
      if (type.typeId !== Type.List) throw new RangeError(`lists cannot be read as ${String(type)}`);
      return makeData({ ...base, valueOffsets: d.offsets, child: toArrow(d.child, (type as List).children[0]!.type) } as never);
    case 'struct': {
      if (type.typeId !== Type.Struct || (type as Struct).children.length !== d.fields.length) throw new RangeError(`a struct of ${d.fields.length} fields cannot be read as ${String(type)}`);
      const children = d.fields.map((f, i) => toArrow(f, (type as Struct).children[i]!.type));
      return makeData({ ...base, children } as never);
    }
  }
}

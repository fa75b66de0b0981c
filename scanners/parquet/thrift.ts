/**
 * A bounded reader of the Thrift COMPACT protocol, the encoding of parquet's footer.
 *
 * Only what a footer decoder needs: field headers, integers, binaries, list headers and a fast skip.
 * Every length is checked against the bytes that remain before it is used and nested skips are
 * depth-limited, so a malformed footer yields a {@link ThriftError}, never an out-of-range read,
 * a huge allocation or a stack overflow.
 */

/** Compact-protocol type codes (the low nibble of a field header). */
export const enum CompactType {
  Stop = 0,
  BoolTrue = 1,
  BoolFalse = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

/** Malformed Thrift data; the scanner turns it into a `CORRUPT_FILE` error naming the file. */
export class ThriftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThriftError';
  }
}

/** Deepest struct nesting {@link ThriftReader.skip} follows (Thrift's own default recursion limit). */
const MAX_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads compact-protocol values from `bytes[start, end)`.
 *
 * @example
 * ```ts
 * const r = new ThriftReader(bytes, 0, bytes.length);
 * for (let id = 0, t = r.field(id); t !== CompactType.Stop; id = r.fieldId, t = r.field(id)) {
 *   if (r.fieldId === 3 && t === CompactType.I64) numRows = r.i64(); else r.skip(t);
 * }
 * ```
 */
export class ThriftReader {
  /** Current position in `bytes`. */
  pos: number;
  /** Id of the field whose header {@link ThriftReader.field} read last. */
  fieldId = 0;
  /** Element type of the list whose header {@link ThriftReader.listSize} read last. */
  elemType = 0;

  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    if (start < 0 || end > bytes.length || start > end) throw new ThriftError('range outside the buffer');
    this.pos = start;
  }

  /**
   * Reads a field header and returns its type ({@link CompactType.Stop} at the end of a struct).
   * `lastId` is the previous field's id in this struct (0 for the first): short headers are deltas.
   * For booleans the value is the type itself (`BoolTrue` / `BoolFalse`).
   */
  field(lastId: number): number {
    const b = this.byte();
    const type = b & 0x0f;
    if (type === CompactType.Stop) return CompactType.Stop;
    const delta = b >> 4;
    this.fieldId = delta !== 0 ? lastId + delta : this.zigzag32(this.varint32());
    return type;
  }

  /** An `i32` (also `i16` and enum values). */
  i32(): number {
    return this.zigzag32(this.varint32());
  }

  /** An `i64` as a number; a value outside [-2^52, 2^52 - 1] (its zigzag form must be a safe integer) is refused rather than rounded. */
  i64(): number {
    const n = this.varint53();
    // zigzag without 32-bit bit operators: n is even for non-negative values
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** One byte (`byte` / `i8`), signed. */
  i8(): number {
    const b = this.byte();
    return b > 127 ? b - 256 : b;
  }

  /** Start offset of a binary's bytes, after checking them against the end; advances past them. */
  binaryStart(): number {
    const len = this.varint32();
    if (len > this.end - this.pos) throw new ThriftError(`binary of ${len} bytes runs past the end (${this.end - this.pos} left)`);
    const start = this.pos;
    this.pos += len;
    return start;
  }

  /** A UTF-8 string (malformed sequences become U+FFFD, as a name should never fail a scan). */
  string(): string {
    const start = this.binaryStart();
    const end = this.pos;
    const bytes = this.bytes;
    // Short ASCII names dominate parquet footers; decoding them by hand is much cheaper than TextDecoder.
    if (end - start <= 64) {
      let s = '';
      for (let i = start; i < end; i++) {
        const c = bytes[i]!;
        if (c > 127) return utf8.decode(bytes.subarray(start, end));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(bytes.subarray(start, end));
  }

  /** A list (or set) header: returns the element count and sets {@link ThriftReader.elemType}. */
  listSize(): number {
    const b = this.byte();
    let size = b >> 4;
    if (size === 15) size = this.varint32();
    this.elemType = b & 0x0f;
    // Every element takes at least one byte, so a larger count cannot be honest.
    if (size > this.end - this.pos) throw new ThriftError(`list of ${size} elements runs past the end (${this.end - this.pos} bytes left)`);
    return size;
  }

  /** Skips one value of compact type `type` (the type from a field or list header). */
  skip(type: number, depth = 0): void {
    this.pos = skipValue(this.bytes, this.pos, this.end, type, depth);
  }

  /** Skips an integer value (`i16`, `i32`, `i64`): a varint, without the general {@link ThriftReader.skip}'s recursive call. */
  skipInt(): void {
    this.pos = skipVarint(this.bytes, this.pos, this.end);
  }

  /** Skips the rest of a struct whose header has been read (up to and including its stop byte). */
  skipStruct(depth = 0): void {
    this.pos = skipValue(this.bytes, this.pos, this.end, CompactType.Struct, depth);
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ThriftError('unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  /** An unsigned varint of at most 32 bits. */
  private varint32(): number {
    let b = this.byte();
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let shift = 7;
    for (let i = 1; i < 5; i++) {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (result > 0xffffffff) throw new ThriftError('32-bit varint out of range');
        return result;
      }
      shift += 7;
    }
    throw new ThriftError('32-bit varint longer than 5 bytes');
  }

  /** An unsigned varint that must fit a safe integer (zigzag-encoded i64 up to ±2^52). */
  private varint53(): number {
    let b = this.byte();
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 10; i++) {
      b = this.byte();
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new ThriftError('64-bit integer too large to represent exactly');
        return result;
      }
      mul *= 128;
    }
    throw new ThriftError('varint longer than 10 bytes');
  }

  private zigzag32(n: number): number {
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
}

/**
 * Skips one compact-protocol value of `type` at `bytes[pos]` and returns the position after it.
 * A plain function over locals (no reader object), because skipping column-chunk metadata is most of
 * a footer decode. Every read is checked against `end`; nesting is limited to {@link MAX_DEPTH}.
 */
function skipValue(bytes: Uint8Array, pos: number, end: number, type: number, depth: number): number {
  switch (type) {
    case CompactType.BoolTrue:
    case CompactType.BoolFalse:
      return pos; // field booleans live in the header; list booleans are handled below
    case CompactType.Byte:
      return advance(pos, 1, end);
    case CompactType.I16:
    case CompactType.I32:
    case CompactType.I64:
      return skipVarint(bytes, pos, end);
    case CompactType.Double:
      return advance(pos, 8, end);
    case CompactType.Binary:
      return skipBinary(bytes, pos, end);
    case CompactType.List:
    case CompactType.Set: {
      if (pos >= end) throw new ThriftError('unexpected end of data');
      const b = bytes[pos++]!;
      let n = b >> 4;
      if (n === 15) {
        n = varint(bytes, pos, end);
        pos = varintEnd;
      }
      const t = b & 0x0f;
      if (n > end - pos) throw new ThriftError(`list of ${n} elements runs past the end (${end - pos} bytes left)`);
      if (t === CompactType.BoolTrue || t === CompactType.BoolFalse || t === CompactType.Byte) return advance(pos, n, end);
      if (t === CompactType.Double) return advance(pos, n * 8, end);
      if (t === CompactType.I32 || t === CompactType.I64 || t === CompactType.I16) {
        for (let i = 0; i < n; i++) pos = skipVarint(bytes, pos, end); // encodings, offsets: no recursive call each
        return pos;
      }
      if (t === CompactType.Binary) {
        for (let i = 0; i < n; i++) pos = skipBinary(bytes, pos, end); // path_in_schema
        return pos;
      }
      for (let i = 0; i < n; i++) pos = skipValue(bytes, pos, end, t, depth + 1);
      return pos;
    }
    case CompactType.Map: {
      const n = varint(bytes, pos, end);
      pos = varintEnd;
      if (n === 0) return pos;
      if (pos >= end) throw new ThriftError('unexpected end of data');
      const kv = bytes[pos++]!;
      if (2 * n > end - pos) throw new ThriftError(`map of ${n} entries runs past the end`);
      const k = kv >> 4;
      const v = kv & 0x0f;
      for (let i = 0; i < n; i++) {
        pos = k === CompactType.BoolTrue || k === CompactType.BoolFalse ? advance(pos, 1, end) : skipValue(bytes, pos, end, k, depth + 1);
        pos = v === CompactType.BoolTrue || v === CompactType.BoolFalse ? advance(pos, 1, end) : skipValue(bytes, pos, end, v, depth + 1);
      }
      return pos;
    }
    case CompactType.Struct: {
      if (depth >= MAX_DEPTH) throw new ThriftError(`structs nested deeper than ${MAX_DEPTH}`);
      for (;;) {
        if (pos >= end) throw new ThriftError('unexpected end of data');
        const b = bytes[pos++]!;
        const t = b & 0x0f;
        if (t === CompactType.Stop) return pos;
        if (b >> 4 === 0) pos = skipVarint(bytes, pos, end); // long form: a zigzag i16 field id follows
        // Integers, booleans and binaries (most fields of column metadata and statistics) are skipped
        // here rather than in a recursive call, which V8 cannot inline; anything unusual takes the
        // general path, which also throws its errors.
        if (t === CompactType.I64 || t === CompactType.I32 || t === CompactType.I16) {
          const lim = end - pos < 10 ? end : pos + 10;
          let i = pos;
          while (i < lim && bytes[i]! >= 0x80) i++;
          pos = i < lim ? i + 1 : skipVarint(bytes, pos, end);
        } else if (t === CompactType.BoolTrue || t === CompactType.BoolFalse) {
          // the value is the type itself
        } else if (t === CompactType.Binary && pos < end && bytes[pos]! < 0x80 && bytes[pos]! < end - pos) {
          pos += 1 + bytes[pos]!; // a length below 128 in one byte, and its bytes all there
        } else pos = skipValue(bytes, pos, end, t, depth + 1);
      }
    }
    default:
      throw new ThriftError(`unknown compact type ${type} at byte ${pos}`);
  }
}

function skipBinary(bytes: Uint8Array, pos: number, end: number): number {
  const len = varint(bytes, pos, end);
  if (len > end - varintEnd) throw new ThriftError(`binary of ${len} bytes runs past the end (${end - varintEnd} left)`);
  return varintEnd + len;
}

function advance(pos: number, n: number, end: number): number {
  if (n > end - pos) throw new ThriftError(`value of ${n} bytes runs past the end`);
  return pos + n;
}

function skipVarint(bytes: Uint8Array, pos: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ThriftError('unexpected end of data');
    if (bytes[pos++]! < 0x80) return pos;
  }
  throw new ThriftError('varint longer than 10 bytes');
}

/** Position after the varint {@link varint} read last (saves allocating a pair per call). */
let varintEnd = 0;

/** An unsigned varint of at most 32 bits; the position after it is left in {@link varintEnd}. */
function varint(bytes: Uint8Array, pos: number, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) throw new ThriftError('unexpected end of data');
    const b = bytes[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (result > 0xffffffff) throw new ThriftError('32-bit varint out of range');
      varintEnd = pos;
      return result;
    }
    mul *= 128;
  }
  throw new ThriftError('32-bit varint longer than 5 bytes');
}

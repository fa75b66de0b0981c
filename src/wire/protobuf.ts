/**
 * A bounded protobuf wire-format reader: enough to walk messages field by field without generated code.
 * Every length is checked against the bytes that remain before it is used, so a malformed message
 * yields an error, never an out-of-range read or a huge allocation.
 */

/** One field read from a message. */
export interface ProtoField {
  /** Field number. */
  no: number;
  /** Wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wireType: number;
}

/**
 * Reads protobuf wire data from a byte range.
 *
 * @example
 * ```ts
 * const r = new ProtoReader(bytes);
 * let name = '';
 * for (let f = r.next(); f; f = r.next()) {
 *   if (f.no === 1 && f.wireType === 2) name = r.string(); else r.skip(f.wireType);
 * }
 * ```
 */
export class ProtoReader {
  /** Current read position in `bytes`. */
  pos: number;
  private readonly end: number;
  private readonly view: DataView;

  /** The buffer being read. */
  readonly bytes: Uint8Array;

  /** Reads `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    if (start < 0 || end > bytes.length || start > end) throw new RangeError('protobuf: range outside buffer');
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when bytes remain. */
  get more(): boolean {
    return this.pos < this.end;
  }

  /** The next field header, or `undefined` at the end of the message. */
  next(): ProtoField | undefined {
    if (this.pos >= this.end) return undefined;
    const key = this.varint();
    const no = Math.floor(key / 8);
    if (no === 0) throw new RangeError('protobuf: field number 0');
    return { no, wireType: key & 7 };
  }

  /** A varint as a number; values above 2^53 lose precision (use {@link ProtoReader.varintBig} for ids). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('protobuf: truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }

  /** A varint as an unsigned 64-bit bigint. */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('protobuf: truncated varint');
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }

  /** A zigzag-encoded signed varint (`sint32`/`sint64`). */
  sint(): number {
    const n = this.varintBig();
    return Number((n >> 1n) ^ -(n & 1n));
  }

  /** A `bool`. */
  bool(): boolean {
    return this.varint() !== 0;
  }

  /** A little-endian fixed 32-bit unsigned value (wire type 5). */
  fixed32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A little-endian fixed 64-bit value (wire type 1) as a bigint. */
  fixed64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A `float` (wire type 5). */
  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A `double` (wire type 1). */
  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Length-delimited bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const len = this.varint();
    this.need(len);
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A length-delimited UTF-8 string. */
  string(): string {
    return decoder.decode(this.bytesField());
  }

  /** A reader over an embedded message (length-delimited). */
  message(): ProtoReader {
    const len = this.varint();
    this.need(len);
    const sub = new ProtoReader(this.bytes, this.pos, this.pos + len);
    this.pos += len;
    return sub;
  }

  /** Values of a repeated scalar field, packed (wire type 2) or not, appended to `out`. */
  repeated(wireType: number, readOne: (r: ProtoReader) => number, out: number[]): number[] {
    if (wireType !== 2) {
      out.push(readOne(this));
      return out;
    }
    const sub = this.message();
    while (sub.more) out.push(readOne(sub));
    return out;
  }

  /** Skips a field's value of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2: {
        const len = this.varint();
        this.need(len);
        this.pos += len;
        return;
      }
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new RangeError(`protobuf: unsupported wire type ${wireType}`);
    }
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new RangeError(`protobuf: length ${n} runs past the end of the message`);
  }
}

const decoder = new TextDecoder();

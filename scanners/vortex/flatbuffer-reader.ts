/**
 * A bounded FlatBuffers table reader. The `flatbuffers` runtime trusts its input (an offset past the end
 * reads `undefined` and silently becomes 0), so the footer flatbuffers of a file we did not write are read
 * through this instead: every offset, vtable and vector length is checked against the buffer before use,
 * nesting is limited, and a budget on visited tables stops a shared-subtree DAG from blowing up a walk.
 */

/** A malformed flatbuffer; the probe turns it into a CORRUPT_FILE error naming the file. */
export class FlatbufferError extends Error {
  override readonly name = 'FlatbufferError';
}

/** Limits shared by all tables of one buffer, like the Rust verifier's `max_depth` / `max_tables`. */
interface Budget {
  tables: number;
  readonly maxDepth: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The root table of a flatbuffer held in `bytes`. `what` names the buffer in error messages
 * (e.g. `layout segment`).
 */
export function rootTable(bytes: Uint8Array, what: string, limits: { maxDepth?: number; maxTables?: number } = {}): FlatTable {
  const budget: Budget = { tables: limits.maxTables ?? 1_000_000, maxDepth: limits.maxDepth ?? 64 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new FlatbufferError(`${what}: ${bytes.length} bytes cannot hold a flatbuffer`);
  return new FlatTable(bytes, view, uoffset(view, 0, what), what, 0, budget);
}

/** Reads the unsigned forward offset at `pos` and returns the absolute position it points to. */
function uoffset(view: DataView, pos: number, what: string): number {
  if (pos < 0 || pos + 4 > view.byteLength) throw new FlatbufferError(`${what}: offset at ${pos} lies outside the buffer`);
  const target = pos + view.getUint32(pos, true);
  if (target + 4 > view.byteLength) throw new FlatbufferError(`${what}: offset at ${pos} points past the end (${target})`);
  return target;
}

/** One table of a flatbuffer. Slots are the field numbers of the schema (0 for the first field). */
export class FlatTable {
  private readonly vtable: number;
  private readonly vtableLength: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private readonly pos: number,
    readonly what: string,
    private readonly depth: number,
    private readonly budget: Budget,
  ) {
    if (depth > budget.maxDepth) throw new FlatbufferError(`${what}: tables nested deeper than ${budget.maxDepth}`);
    if (--budget.tables < 0) throw new FlatbufferError(`${what}: more tables than the reader allows`);
    if (pos + 4 > view.byteLength) throw new FlatbufferError(`${what}: table at ${pos} lies outside the buffer`);
    const vtable = pos - view.getInt32(pos, true);
    if (vtable < 0 || vtable + 4 > view.byteLength) throw new FlatbufferError(`${what}: vtable of table at ${pos} lies outside the buffer`);
    const vtableLength = view.getUint16(vtable, true);
    if (vtableLength < 4 || vtableLength % 2 !== 0 || vtable + vtableLength > view.byteLength) {
      throw new FlatbufferError(`${what}: vtable at ${vtable} has an invalid length ${vtableLength}`);
    }
    this.vtable = vtable;
    this.vtableLength = vtableLength;
  }

  /** Absolute position of a field of `size` bytes, or 0 when the field is absent. */
  private field(slot: number, size: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableLength) return 0;
    const rel = this.view.getUint16(this.vtable + entry, true);
    if (rel === 0) return 0;
    const abs = this.pos + rel;
    if (abs + size > this.view.byteLength) throw new FlatbufferError(`${this.what}: field ${slot} of table at ${this.pos} runs past the end`);
    return abs;
  }

  /** True when the field is stored (scalars equal to their default are usually not). */
  has(slot: number): boolean {
    return this.field(slot, 0) !== 0;
  }

  /** An unsigned byte (also enums and union type tags). */
  u8(slot: number, fallback = 0): number {
    const at = this.field(slot, 1);
    return at === 0 ? fallback : this.view.getUint8(at);
  }

  /** A signed byte. */
  i8(slot: number, fallback = 0): number {
    const at = this.field(slot, 1);
    return at === 0 ? fallback : this.view.getInt8(at);
  }

  /** A bool. */
  bool(slot: number, fallback = false): boolean {
    const at = this.field(slot, 1);
    return at === 0 ? fallback : this.view.getUint8(at) !== 0;
  }

  /** An optional bool (`= null` in the schema): `undefined` when absent. */
  optionalBool(slot: number): boolean | undefined {
    return this.has(slot) ? this.bool(slot) : undefined;
  }

  /** A u16. */
  u16(slot: number, fallback = 0): number {
    const at = this.field(slot, 2);
    return at === 0 ? fallback : this.view.getUint16(at, true);
  }

  /** A u32. */
  u32(slot: number, fallback = 0): number {
    const at = this.field(slot, 4);
    return at === 0 ? fallback : this.view.getUint32(at, true);
  }

  /** A u64 as a bigint. */
  u64(slot: number, fallback = 0n): bigint {
    const at = this.field(slot, 8);
    return at === 0 ? fallback : this.view.getBigUint64(at, true);
  }

  /**
   * A u64 as a number; values above 2^53 give `undefined` (callers report them) rather than losing
   * precision. Avoids bigint arithmetic on the hot path.
   */
  u64Safe(slot: number): number | undefined {
    const at = this.field(slot, 8);
    if (at === 0) return 0;
    const hi = this.view.getUint32(at + 4, true);
    if (hi >= 0x200000) return undefined;
    return hi * 0x1_0000_0000 + this.view.getUint32(at, true);
  }

  /** An optional u64 (`= null` in the schema): `undefined` when absent. */
  optionalU64(slot: number): bigint | undefined {
    return this.has(slot) ? this.u64(slot) : undefined;
  }

  /** A sub-table, or `undefined` when absent. */
  table(slot: number): FlatTable | undefined {
    const at = this.field(slot, 4);
    if (at === 0) return undefined;
    return new FlatTable(this.bytes, this.view, uoffset(this.view, at, this.what), this.what, this.depth + 1, this.budget);
  }

  /** A union member: the type tag is stored in `slot`, the table in `slot + 1`. */
  union(slot: number): { type: number; value: FlatTable | undefined } {
    return { type: this.u8(slot), value: this.table(slot + 1) };
  }

  /** Start and length of a vector of `elementSize`-byte elements, checked against the buffer. */
  private vector(slot: number, elementSize: number): { start: number; length: number } | undefined {
    const at = this.field(slot, 4);
    if (at === 0) return undefined;
    const vec = uoffset(this.view, at, this.what);
    const length = this.view.getUint32(vec, true);
    const start = vec + 4;
    if (length * elementSize > this.view.byteLength - start) {
      throw new FlatbufferError(`${this.what}: vector of ${length} elements at ${vec} runs past the end`);
    }
    return { start, length };
  }

  /** A `[ubyte]` vector as a view (not a copy), or `undefined` when absent. */
  bytesVector(slot: number): Uint8Array | undefined {
    const v = this.vector(slot, 1);
    return v && this.bytes.subarray(v.start, v.start + v.length);
  }

  /** A string (UTF-8), or `undefined` when absent. */
  string(slot: number): string | undefined {
    const v = this.vector(slot, 1);
    if (!v) return undefined;
    return this.decodeString(v.start, v.length);
  }

  /** A `[uint32]` vector. */
  u32Vector(slot: number): number[] {
    const v = this.vector(slot, 4);
    const out: number[] = [];
    if (v) for (let i = 0; i < v.length; i++) out.push(this.view.getUint32(v.start + 4 * i, true));
    return out;
  }

  /** A vector of tables. */
  tableVector(slot: number): FlatTable[] {
    const v = this.vector(slot, 4);
    const out: FlatTable[] = [];
    if (!v) return out;
    for (let i = 0; i < v.length; i++) {
      const at = uoffset(this.view, v.start + 4 * i, this.what);
      out.push(new FlatTable(this.bytes, this.view, at, this.what, this.depth + 1, this.budget));
    }
    return out;
  }

  /** A vector of strings. */
  stringVector(slot: number): string[] {
    const v = this.vector(slot, 4);
    const out: string[] = [];
    if (!v) return out;
    for (let i = 0; i < v.length; i++) {
      const at = uoffset(this.view, v.start + 4 * i, this.what);
      const length = this.view.getUint32(at, true);
      if (length > this.view.byteLength - at - 4) throw new FlatbufferError(`${this.what}: string at ${at} runs past the end`);
      out.push(this.decodeString(at + 4, length));
    }
    return out;
  }

  /**
   * A vector of fixed-size structs: a view over the whole buffer, where element `i` starts at
   * `start + i * structSize`; `undefined` when absent.
   */
  structVector(slot: number, structSize: number): { view: DataView; start: number; length: number } | undefined {
    const v = this.vector(slot, structSize);
    return v && { view: this.view, start: v.start, length: v.length };
  }

  /** Number of field slots the table's vtable describes (present or not). */
  get slotCount(): number {
    return (this.vtableLength - 4) / 2;
  }

  /**
   * A struct stored inline in the table (`size` bytes), as a view positioned at its first byte;
   * `undefined` when absent.
   */
  inlineStruct(slot: number, size: number): { view: DataView; at: number } | undefined {
    const at = this.field(slot, size);
    return at === 0 ? undefined : { view: this.view, at };
  }

  private decodeString(start: number, length: number): string {
    try {
      return decoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      throw new FlatbufferError(`${this.what}: string at ${start} is not valid UTF-8`);
    }
  }
}

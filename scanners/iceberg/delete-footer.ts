/**
 * Reads what pins a position delete file to its data file from the delete file's own parquet footer:
 * the min and max statistics of its `file_path` column. When they are equal, every row of the delete
 * file names that one data file (Iceberg writers sort position deletes by `file_path`, and the footer
 * keeps exact min/max unless it says otherwise). Only the footer is read: the file's last 64 KiB, plus one
 * read when the footer is larger. A small Thrift-compact reader of our own walks just the fields needed
 * (row groups → column chunks → path and statistics), bounded against the bytes at hand.
 */
import type { SourceStorage } from '../../src/scanner.js';

/** What the footer says about the `file_path` column. */
export type DeleteFileTarget =
  | { kind: 'one'; dataFile: string }
  | { kind: 'several'; min: string; max: string }
  | { kind: 'unknown'; reason: string };

const TAIL = 64 * 1024;
const MAX_FOOTER = 16 * 1024 * 1024;
const MAX_DEPTH = 32;

/** Reads the footer of the position delete file at `path` (relative to `storage`). */
export async function readDeleteFileTarget(storage: SourceStorage, path: string): Promise<DeleteFileTarget> {
  try {
    const stat = await storage.stat(path);
    if (!stat) return { kind: 'unknown', reason: 'the delete file is not there' };
    if (stat.size < 12) return { kind: 'unknown', reason: 'the delete file is too small to be parquet' };
    const tailLength = Math.min(stat.size, TAIL);
    let tail = await storage.read(path, stat.size - tailLength, tailLength);
    const n = tail.length;
    if (String.fromCharCode(tail[n - 4]!, tail[n - 3]!, tail[n - 2]!, tail[n - 1]!) !== 'PAR1') {
      return { kind: 'unknown', reason: 'the delete file is not a plain parquet file (no PAR1 footer)' };
    }
    const length = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
    if (length === 0 || length + 12 > stat.size || length > MAX_FOOTER) return { kind: 'unknown', reason: `the footer length ${length} does not fit the file` };
    if (length + 8 > n) tail = await storage.read(path, stat.size - 8 - length, length + 8);
    const footer = tail.subarray(tail.length - 8 - length, tail.length - 8);
    return filePathBounds(footer);
  } catch (e) {
    return { kind: 'unknown', reason: `its footer cannot be read (${(e as Error).message})` };
  }
}

/** min/max of the top-level `file_path` column over all row groups. */
export function filePathBounds(footer: Uint8Array): DeleteFileTarget {
  const r = new CompactReader(footer);
  let min: string | undefined;
  let max: string | undefined;
  let chunks = 0;
  let inexact = false;
  r.struct((id, type) => {
    if (id !== 4 || type !== LIST) return false; // FileMetaData.row_groups
    r.list(() => r.struct((gid, gtype) => {
      if (gid !== 1 || gtype !== LIST) return false; // RowGroup.columns
      r.list(() => r.struct((cid, ctype) => {
        if (cid !== 3 || ctype !== STRUCT) return false; // ColumnChunk.meta_data
        let path: string[] = [];
        let lo: string | undefined, hi: string | undefined, legacyLo: string | undefined, legacyHi: string | undefined;
        let exactLo = true, exactHi = true;
        r.struct((mid, mtype) => {
          if (mid === 3 && mtype === LIST) { // path_in_schema
            path = [];
            r.list(() => path.push(r.string()));
            return true;
          }
          if (mid !== 12 || mtype !== STRUCT) return false; // statistics
          r.struct((sid, stype) => {
            if (stype === BINARY && sid >= 1 && sid <= 6 && sid !== 3 && sid !== 4) {
              const v = r.string();
              if (sid === 1) legacyHi = v;
              else if (sid === 2) legacyLo = v;
              else if (sid === 5) hi = v;
              else lo = v;
              return true;
            }
            if (sid === 7 && (stype === TRUE || stype === FALSE)) exactHi = stype === TRUE;
            else if (sid === 8 && (stype === TRUE || stype === FALSE)) exactLo = stype === TRUE;
            else return false;
            return true;
          });
          return true;
        });
        if (path.length === 1 && path[0] === 'file_path') {
          chunks++;
          const cLo = lo ?? legacyLo, cHi = hi ?? legacyHi;
          if (!exactLo || !exactHi) inexact = true;
          if (cLo === undefined || cHi === undefined) inexact = true;
          else {
            if (min === undefined || cLo < min) min = cLo;
            if (max === undefined || cHi > max) max = cHi;
          }
        }
        return true;
      }));
      return true;
    }));
    return true;
  });
  if (chunks === 0) return { kind: 'unknown', reason: 'its footer has no file_path column' };
  if (inexact || min === undefined || max === undefined) return { kind: 'unknown', reason: 'its footer has no exact file_path statistics' };
  return min === max ? { kind: 'one', dataFile: min } : { kind: 'several', min, max };
}

// Thrift compact types.
const STOP = 0, TRUE = 1, FALSE = 2, BYTE = 3, I16 = 4, I32 = 5, I64 = 6, DOUBLE = 7, BINARY = 8, LIST = 9, SET = 10, MAP = 11, STRUCT = 12;

/** A bounded Thrift-compact reader: callbacks read the fields they want, everything else is skipped. */
class CompactReader {
  private pos = 0;
  private depth = 0;
  private listElem = 0;
  constructor(private readonly b: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.b.length) throw new RangeError('thrift: truncated footer');
    return this.b[this.pos++]!;
  }

  private varint(): number {
    let n = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const x = this.byte();
      if (shift < 49) n += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return n;
    }
    throw new RangeError('thrift: varint too long');
  }

  string(): string {
    const len = this.varint();
    if (len > this.b.length - this.pos) throw new RangeError('thrift: binary runs past the footer');
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, len).toString('utf8');
    this.pos += len;
    return s;
  }

  /** Reads a struct; `field(id, type)` returns true when it consumed the value (or a bool field). */
  struct(field: (id: number, type: number) => boolean): void {
    if (++this.depth > MAX_DEPTH) throw new RangeError('thrift: nested too deeply');
    let id = 0;
    for (;;) {
      const h = this.byte();
      const type = h & 0x0f;
      if (type === STOP) break;
      const delta = h >> 4;
      id = delta === 0 ? zigzag(this.varint()) : id + delta;
      if (!field(id, type)) this.skip(type);
    }
    this.depth--;
  }

  /** Reads a list header, then calls `item` once per element (the element type is in `listElem`). */
  list(item: () => void): void {
    const h = this.byte();
    let size = h >> 4;
    if (size === 15) size = this.varint();
    if (size > this.b.length - this.pos) throw new RangeError('thrift: list longer than the footer');
    this.listElem = h & 0x0f;
    for (let i = 0; i < size; i++) item();
  }

  private skip(type: number): void {
    switch (type) {
      case TRUE: case FALSE: return;
      case BYTE: this.byte(); return;
      case I16: case I32: case I64: this.varint(); return;
      case DOUBLE: this.pos += 8; if (this.pos > this.b.length) throw new RangeError('thrift: truncated footer'); return;
      case BINARY: this.string(); return;
      case LIST: case SET: {
        if (++this.depth > MAX_DEPTH) throw new RangeError('thrift: nested too deeply');
        this.list(() => {
          const t = this.listElem;
          if (t === TRUE || t === FALSE) this.byte();
          else this.skip(t);
          this.listElem = t;
        });
        this.depth--;
        return;
      }
      case MAP: {
        const size = this.varint();
        if (size === 0) return;
        if (size > this.b.length - this.pos) throw new RangeError('thrift: map longer than the footer');
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElem(kv >> 4);
          this.skipElem(kv & 0x0f);
        }
        return;
      }
      case STRUCT: this.struct(() => false); return;
      default: throw new RangeError(`thrift: unknown type ${type}`);
    }
  }

  private skipElem(t: number): void {
    if (t === TRUE || t === FALSE) this.byte();
    else this.skip(t);
  }
}

function zigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/**
 * A local data file opened for reading values: every read is checked against the file's size and
 * against the read budget before a byte is allocated.
 */
import * as fs from 'node:fs';
import { LakemapError, corruptFile } from '../errors.js';

/** Largest single read (a column chunk) allowed by default: 1 GiB. */
export const DEFAULT_READ_BUDGET = 1024 * 1024 * 1024;

/**
 * What the decoders read from: a file of known size whose reads are checked against it and the budget.
 * A local {@link SourceFile}, or a remote object whose planned ranges were fetched (remote/object-file.ts).
 */
export interface ByteSource {
  /** The file's path relative to the source, for errors. */
  readonly rel: string;
  /** Size in bytes. */
  readonly size: number;
  /** Largest single read. */
  readonly budget: number;
  /** Reads `[offset, offset + length)`; with `scratch`, the result may live in its buffer (valid until the next read into it). */
  read(offset: number, length: number, what: string, scratch?: { buffer: Uint8Array }): Uint8Array;
  /** Releases the file (idempotent). */
  close(): void;
}

/** Refuses a read outside `[0, size)` or above the budget, before a byte is allocated. */
export function checkRead(file: Pick<ByteSource, 'rel' | 'size' | 'budget'>, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > file.size) {
    throw corruptFile(file.rel, `${what} at bytes [${offset}, ${offset + length}) lies outside the ${file.size}-byte file`);
  }
  if (length > file.budget) {
    throw new LakemapError('UNSUPPORTED', `${file.rel}: ${what} is ${length} bytes, above the ${file.budget}-byte read budget`, { path: file.rel });
  }
}

/** An open file: size known, reads bounded. Close it when done. */
export class SourceFile implements ByteSource {
  private fd: number;
  /** Size in bytes at open time. */
  readonly size: number;
  /** Modification time at open time, epoch ms. */
  readonly mtimeMs: number;

  /** Opens `abs`; `rel` names it in errors. */
  constructor(
    readonly abs: string,
    readonly rel: string,
    readonly budget: number = DEFAULT_READ_BUDGET,
  ) {
    try {
      this.fd = fs.openSync(abs, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new LakemapError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `${rel}: cannot open (${code ?? String(e)})`, { path: rel, cause: e });
    }
    const st = fs.fstatSync(this.fd);
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
  }

  /**
   * Reads `[offset, offset + length)`, refusing a range outside the file or above the budget. With
   * `scratch`, the bytes land in its buffer when it is large enough (the result is then only valid
   * until the next read into it).
   */
  read(offset: number, length: number, what: string, scratch?: { buffer: Uint8Array }): Uint8Array {
    checkRead(this, offset, length, what);
    let buf: Uint8Array;
    if (scratch) {
      if (scratch.buffer.length < length) scratch.buffer = new Uint8Array(Math.min(this.budget, Math.max(length, scratch.buffer.length * 2)));
      buf = scratch.buffer;
    } else buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buf, done, length - done, offset + done);
      } catch (e) {
        throw new LakemapError('IO_ERROR', `${this.rel}: read failed (${(e as Error).message})`, { path: this.rel, cause: e });
      }
      if (n === 0) throw corruptFile(this.rel, `file ended at byte ${offset + done} while reading ${what} (was it truncated?)`);
      done += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

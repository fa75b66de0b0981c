/**
 * Finds the footer of a parquet file from its last bytes:
 * `… FileMetaData (L bytes) | L as u32 LE | "PAR1"`, with `"PAR1"` also at offset 0.
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';

/** Bytes after the footer: its length (u32 LE) and the magic. */
export const TRAILER_BYTES = 8;

/** Leading magic + trailer: nothing smaller is a parquet file. */
const MIN_FILE_BYTES = 12;

/** A footer larger than this is refused rather than read into memory. */
export const MAX_FOOTER_BYTES = 256 * 1024 * 1024;

/** Where the footer lies in the file. */
export interface FooterLocation {
  /** Absolute offset of the footer's first byte. */
  offset: number;
  /** Footer length in bytes. */
  length: number;
}

/**
 * Checks the trailing magic and the footer length against the file size, before anything is allocated.
 * `tail` is the file's last bytes (at least the last 8 when the file has that many).
 */
export function locateFooter(path: string, size: number, tail: Uint8Array): FooterLocation {
  if (size < MIN_FILE_BYTES) {
    throw corruptFile(path, `file is ${size} bytes, too small for a parquet file (at least ${MIN_FILE_BYTES}: magic, footer length, magic)`);
  }
  if (tail.length < TRAILER_BYTES) throw corruptFile(path, `only ${tail.length} tail bytes were read, ${TRAILER_BYTES} are needed`);
  const n = tail.length;
  const m0 = tail[n - 4]!, m1 = tail[n - 3]!, m2 = tail[n - 2]!, m3 = tail[n - 1]!;
  if (m0 === 0x50 && m1 === 0x41 && m2 === 0x52 && m3 === 0x45) {
    throw new LakemapError('UNSUPPORTED', `${path}: encrypted footer (PARE): reading parquet modular encryption needs keys lakemap does not handle`, { path });
  }
  if (m0 !== 0x50 || m1 !== 0x41 || m2 !== 0x52 || m3 !== 0x31) {
    throw corruptFile(path, `does not end with the parquet magic "PAR1" (last bytes ${hex(tail.subarray(n - 4))})`);
  }
  const length = (tail[n - 8]! | (tail[n - 7]! << 8) | (tail[n - 6]! << 16)) + tail[n - 5]! * 0x1000000;
  if (length === 0) throw corruptFile(path, 'footer length is 0');
  if (length + TRAILER_BYTES > size - 4) {
    throw corruptFile(path, `footer length ${length} runs past the start of the ${size}-byte file`);
  }
  if (length > MAX_FOOTER_BYTES) {
    throw new LakemapError('UNSUPPORTED', `${path}: footer of ${length} bytes is larger than the ${MAX_FOOTER_BYTES} lakemap reads`, { path });
  }
  return { offset: size - TRAILER_BYTES - length, length };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * The 16-byte trailer that ends every Lance manifest and legacy (v0.1/v0.2) data file:
 * `i64 LE position | u16 LE major | u16 LE minor | "LANC"`. The position points at the metadata
 * message (for a manifest, at its `u32` length prefix).
 *
 * @module
 */
import { corruptFile } from '../../src/scanner.js';

/** Length of the trailer in bytes. */
export const TRAILER_BYTES = 16;

/** The four magic bytes `LANC` that end every Lance file. */
export const LANCE_MAGIC = new Uint8Array([0x4c, 0x41, 0x4e, 0x43]);

/** A decoded trailer. */
export interface LanceTrailer {
  /** Byte offset of the metadata, checked to lie inside the file before the trailer. */
  position: number;
  /** Major version written in the trailer. */
  major: number;
  /** Minor version written in the trailer. */
  minor: number;
}

/** True when `bytes` ends with `LANC`. */
export function endsWithMagic(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 4) return false;
  for (let i = 0; i < 4; i++) if (bytes[n - 4 + i] !== LANCE_MAGIC[i]) return false;
  return true;
}

/**
 * Decodes the trailer at the end of `tail` (the last bytes of a `fileSize`-byte file at `path`),
 * refusing a missing magic or a position that does not lie inside the file before the trailer.
 */
export function readTrailer(path: string, tail: Uint8Array, fileSize: number): LanceTrailer {
  if (fileSize < TRAILER_BYTES || tail.length < TRAILER_BYTES) {
    throw corruptFile(path, `file is ${fileSize} bytes, too short for the ${TRAILER_BYTES}-byte Lance trailer`);
  }
  if (!endsWithMagic(tail)) throw corruptFile(path, 'file does not end with the Lance magic "LANC"');
  const view = new DataView(tail.buffer, tail.byteOffset + tail.length - TRAILER_BYTES, TRAILER_BYTES);
  const position = view.getBigInt64(0, true);
  const major = view.getUint16(8, true);
  const minor = view.getUint16(10, true);
  if (position < 0n || position > BigInt(fileSize - TRAILER_BYTES)) {
    throw corruptFile(path, `trailer points at offset ${position}, outside the ${fileSize}-byte file`);
  }
  return { position: Number(position), major, minor };
}

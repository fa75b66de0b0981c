/**
 * The 8-byte end-of-file marker of a Vortex file (docs/specs/file-format.md):
 * `u16 version tag, u16 postscript length, "VTXF"`, preceded by the postscript.
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';

/** The magic at both ends of a stable-format Vortex file. */
export const VORTEX_MAGIC = 'VTXF';
/** The trailing magic of files written before the format was declared stable (Vortex < 0.36). */
export const LEGACY_MAGIC = 'VRTX';
/** The only file-format version tag this library reads (`vortex-file` `VERSION`). */
export const SUPPORTED_VERSION = 1;
/** Bytes of the end-of-file marker. */
export const EOF_SIZE = 8;
/** Largest postscript the format allows: `u16::MAX - 8`. */
export const MAX_POSTSCRIPT_SIZE = 65527;

/** What the end-of-file marker says. */
export interface VortexTrailer {
  /** File-format version tag. */
  version: number;
  /** Length of the postscript flatbuffer that ends right before the marker. */
  postscriptLength: number;
  /** Absolute offset of the postscript. */
  postscriptOffset: number;
}

/** Decodes and checks the end-of-file marker from the last bytes of a file of `size` bytes. */
export function readTrailer(path: string, size: number, tail: Uint8Array): VortexTrailer {
  if (size < EOF_SIZE || tail.length < EOF_SIZE) {
    throw corruptFile(path, `${size} bytes is too short for a Vortex file (truncated: no 8-byte end-of-file marker)`);
  }
  const eof = tail.subarray(tail.length - EOF_SIZE);
  const magic = ascii(eof.subarray(4));
  if (magic === LEGACY_MAGIC) {
    throw new LakemapError(
      'UNSUPPORTED',
      `${path}: legacy Vortex file (ends in "VRTX"): it predates the stable Vortex file format (0.36) and its footer layout; rewrite it with Vortex 0.36 or later`,
      { path },
    );
  }
  if (magic !== VORTEX_MAGIC) {
    throw corruptFile(path, `not a Vortex file: the last 4 bytes are ${JSON.stringify(magic)}, expected "VTXF" (bad magic or truncated file)`);
  }
  const view = new DataView(eof.buffer, eof.byteOffset, EOF_SIZE);
  const version = view.getUint16(0, true);
  const postscriptLength = view.getUint16(2, true);
  if (version !== SUPPORTED_VERSION) {
    const why = version > SUPPORTED_VERSION ? 'newer than' : 'unknown to';
    throw new LakemapError(
      'UNSUPPORTED',
      `${path}: Vortex file-format version tag ${version} is ${why} this reader, which reads version ${SUPPORTED_VERSION}`,
      { path },
    );
  }
  if (postscriptLength > MAX_POSTSCRIPT_SIZE) {
    throw corruptFile(path, `postscript length ${postscriptLength} exceeds the format's maximum of ${MAX_POSTSCRIPT_SIZE}`);
  }
  // The leading magic (4 bytes) must fit before the postscript.
  if (postscriptLength + EOF_SIZE + VORTEX_MAGIC.length > size) {
    throw corruptFile(path, `postscript length ${postscriptLength} does not fit in the ${size}-byte file (truncated)`);
  }
  return { version, postscriptLength, postscriptOffset: size - EOF_SIZE - postscriptLength };
}

/** Checks the leading magic, given the file's first 4 bytes. */
export function checkLeadingMagic(path: string, head: Uint8Array): void {
  const magic = ascii(head.subarray(0, 4));
  if (magic !== VORTEX_MAGIC) {
    throw corruptFile(path, `the file does not start with "VTXF" (got ${JSON.stringify(magic)}): truncated at the front or not a Vortex file`);
  }
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

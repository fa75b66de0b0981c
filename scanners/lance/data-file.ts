/**
 * Row count of a `.lance` data file from its footer, for manifests that did not record (or cannot
 * be trusted about) `physical_rows`. Two layouts exist:
 * - legacy v0.1/v0.2 (`u16 major 0, minor < 3`): `i64 metadata position` then version and magic;
 *   at that position a `u32` length and the `lance.file.Metadata` message, whose last
 *   `batch_offsets` entry is the row count.
 * - v2 (`0.3` on disk = "2.0", then `2.1`, …): a 40-byte footer whose global buffer 0 is a
 *   `FileDescriptor` with the row count in field 2 (`docs/src/format/file/index.md`).
 * The file's own footer decides the layout; the manifest's version markers were wrong in some
 * releases (see the corpus `v0.16.0/wrong_data_version_*`).
 *
 * @module
 */
import { LakemapError, ProtoReader, corruptFile } from '../../src/scanner.js';
import type { SourceStorage } from '../../src/scanner.js';
import { endsWithMagic, readTrailer } from './trailer.js';

const TAIL_READ = 64 * 1024;
const V2_FOOTER_BYTES = 40;
/** Metadata messages larger than this are refused (they hold a few offsets, never megabytes). */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

/** What the footer of a data file says. */
export interface DataFileFooter {
  /** Rows in the file. */
  rows: number;
  /** File format version as written in the footer, e.g. `0.2` (legacy) or `2.1`. */
  formatVersion: string;
  /** File size in bytes. */
  size: number;
}

/** Reads the row count of the data file at `path` (relative to the dataset root). */
export async function readDataFileFooter(source: SourceStorage, path: string): Promise<DataFileFooter> {
  const stat = await source.stat(path);
  if (!stat) throw corruptFile(path, 'the manifest records no row count for this fragment and its data file, which would give it, does not exist');
  const size = stat.size;
  const tailLen = Math.min(size, TAIL_READ);
  const tail = await source.read(path, size - tailLen, tailLen);
  if (size < 16 || !endsWithMagic(tail)) throw corruptFile(path, 'not a Lance data file (no "LANC" magic at the end)');
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const major = view.getUint16(tail.length - 8, true);
  const minor = view.getUint16(tail.length - 6, true);
  const formatVersion = `${major}.${minor}`;
  const at = (offset: number, length: number): Promise<Uint8Array> => sliceOrRead(source, path, tail, size, offset, length);
  try {
    const rows = major === 0 && minor < 3 ? await legacyRows(path, tail, size, at) : await v2Rows(path, tail, size, at);
    return { rows, formatVersion, size };
  } catch (e) {
    if (LakemapError.is(e)) throw e;
    throw corruptFile(path, `malformed ${formatVersion} data file footer: ${(e as Error).message}`, e);
  }
}

type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

async function legacyRows(path: string, tail: Uint8Array, size: number, at: ReadAt): Promise<number> {
  // The trailer points at a u32 length prefix followed by the Metadata message.
  const { position } = readTrailer(path, tail, size);
  const room = size - 16 - position;
  if (room < 4) throw new RangeError(`metadata position ${position} leaves no room for its length prefix`);
  const prefix = await at(position, 4);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, true);
  if (length > room - 4) throw new RangeError(`metadata length ${length} runs past the trailer (${room - 4} bytes left)`);
  if (length > MAX_METADATA_BYTES) throw new RangeError(`metadata of ${length} bytes is implausibly large`);
  const r = new ProtoReader(await at(position + 4, length));
  const offsets: number[] = [];
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 2 && (f.wireType === 0 || f.wireType === 2)) r.repeated(f.wireType, (x) => Number(BigInt.asIntN(32, x.varintBig())), offsets);
    else r.skip(f.wireType);
  }
  const rows = offsets.length === 0 ? 0 : offsets[offsets.length - 1]!;
  if (rows < 0) throw new RangeError(`last batch offset is negative (${rows})`);
  return rows;
}

async function v2Rows(path: string, tail: Uint8Array, size: number, at: ReadAt): Promise<number> {
  if (size < V2_FOOTER_BYTES || tail.length < V2_FOOTER_BYTES) throw new RangeError(`file of ${size} bytes is too short for the 40-byte footer`);
  const view = new DataView(tail.buffer, tail.byteOffset + tail.length - V2_FOOTER_BYTES, V2_FOOTER_BYTES);
  const gboStart = view.getBigUint64(16, true);
  const numGlobalBuffers = view.getUint32(24, true);
  if (numGlobalBuffers < 1) throw new RangeError('file has no global buffer, so no file descriptor');
  const footerStart = BigInt(size - V2_FOOTER_BYTES);
  if (gboStart + 16n > footerStart) throw new RangeError(`global buffer table at ${gboStart} lies outside the file`);
  const entry = await at(Number(gboStart), 16); // only buffer 0 is needed
  const ev = new DataView(entry.buffer, entry.byteOffset, 16);
  const bufPos = ev.getBigUint64(0, true);
  const bufLen = ev.getBigUint64(8, true);
  if (bufPos + bufLen > footerStart || bufLen > BigInt(MAX_METADATA_BYTES)) {
    throw new RangeError(`file descriptor (${bufLen} bytes at ${bufPos}) lies outside the file`);
  }
  const r = new ProtoReader(await at(Number(bufPos), Number(bufLen)));
  let rows: number | undefined;
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 2 && f.wireType === 0) {
      const v = r.varintBig();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`row count ${v} is beyond any real file`);
      rows = Number(v);
    } else r.skip(f.wireType);
  }
  return rows ?? 0;
}

/** Bytes `[offset, offset+length)` of the file, from the tail already read when they lie in it. */
async function sliceOrRead(source: SourceStorage, path: string, tail: Uint8Array, size: number, offset: number, length: number): Promise<Uint8Array> {
  const tailStart = size - tail.length;
  if (offset >= tailStart && offset + length <= size) return tail.subarray(offset - tailStart, offset - tailStart + length);
  return source.read(path, offset, length);
}

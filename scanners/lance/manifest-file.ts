/**
 * Reads one `_versions/*.manifest` file: the trailer gives the position of a `u32` length prefix,
 * followed by the protobuf `Manifest` that runs up to the trailer. An optional index section or
 * inline transaction may sit before it and is not read.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { LakemapError, corruptFile } from '../../src/scanner.js';
import type { SourceStorage } from '../../src/scanner.js';
import { decodeManifest } from './manifest-proto.js';
import { TRAILER_BYTES, readTrailer } from './trailer.js';
import type { LanceManifest } from './types.js';

/** Bytes read from the end of a manifest first; most manifests fit, larger ones take one more read. */
const TAIL_READ = 64 * 1024;

/** Largest manifest accepted (a manifest of a million fragments is far below this). */
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

/** Manifests up to this size are read in one piece (one request instead of a tail read and a head read). */
const WHOLE_READ = 4 * 1024 * 1024;

/**
 * Reads and decodes the manifest at `path` (relative to the dataset root). `knownSize`, from a
 * directory listing, saves a stat; a manifest of a few MiB is read in one request.
 */
export async function readManifestFile(source: SourceStorage, path: string, knownSize?: number): Promise<LanceManifest> {
  return decodeManifestMessage(path, await readManifestMessage(source, path, knownSize));
}

/** The protobuf `Manifest` message bytes of the manifest file at `path` (between its length prefix and trailer). */
export async function readManifestMessage(source: SourceStorage, path: string, knownSize?: number): Promise<Uint8Array> {
  let size = knownSize;
  if (size === undefined) {
    const stat = await source.stat(path);
    if (!stat) throw new LakemapError('NOT_FOUND', `${path} not found under ${source.root}`, { path });
    size = stat.size;
  }
  if (size > MAX_MANIFEST_BYTES) throw corruptFile(path, `manifest is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} accepted`);
  const tailLen = size <= WHOLE_READ ? size : Math.min(size, TAIL_READ);
  const tail = await source.read(path, size - tailLen, tailLen);
  return manifestMessage(path, tail, size, (offset, length) => source.read(path, offset, length));
}

/**
 * Digest of a manifest message (SHA-256, hex): the snapshot records it, so a later refresh that finds
 * the same version can tell the same manifest from one written again under the same name.
 */
export function manifestDigest(message: Uint8Array): string {
  return createHash('sha256').update(message).digest('hex');
}

/**
 * Decodes a manifest file given its last bytes (`tail`) and total `size`; `readMore` fetches the
 * start of the message when it lies before the tail.
 */
export async function decodeManifestFile(
  path: string,
  tail: Uint8Array,
  size: number,
  readMore: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<LanceManifest> {
  return decodeManifestMessage(path, await manifestMessage(path, tail, size, readMore));
}

/** Decodes the protobuf `Manifest` message of the manifest file at `path`. */
export function decodeManifestMessage(path: string, message: Uint8Array): LanceManifest {
  try {
    return decodeManifest(message);
  } catch (e) {
    throw corruptFile(path, `manifest protobuf is malformed: ${(e as Error).message}`, e);
  }
}

async function manifestMessage(path: string, tail: Uint8Array, size: number, readMore: (offset: number, length: number) => Promise<Uint8Array>): Promise<Uint8Array> {
  const { position } = readTrailer(path, tail, size);
  const end = size - TRAILER_BYTES;
  if (end - position < 4) throw corruptFile(path, `manifest position ${position} leaves no room for its length prefix`);
  const tailStart = size - tail.length;
  let region: Uint8Array; // bytes [position, end)
  if (position >= tailStart) {
    region = tail.subarray(position - tailStart, end - tailStart);
  } else {
    const head = await readMore(position, tailStart - position);
    region = new Uint8Array(end - position);
    region.set(head, 0);
    region.set(tail.subarray(0, end - tailStart), head.length);
  }
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const recorded = view.getUint32(0, true);
  if (recorded !== region.length - 4) {
    throw corruptFile(path, `manifest length prefix says ${recorded} bytes but ${region.length - 4} lie between it and the trailer`);
  }
  return region.subarray(4);
}

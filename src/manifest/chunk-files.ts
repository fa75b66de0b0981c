/**
 * Chunked manifest versions on disk, for the version store: chunks live in a collection's
 * `chunks/<id>.i.json` (file index) and `<id>.c.json` (entries), written once each
 * (exclusive create of complete, durable content; content addressing makes an existing name the same
 * content), and pruned when no kept version references them.
 *
 * A commit is: {@link writeChunks} (missing chunks only) → the root as the version file (exclusive) →
 * the `CURRENT` flip → {@link pruneChunks} over the kept versions. A crash before the flip leaves at
 * most unreferenced chunks, which the next prune removes.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifestVersion, splitManifest, type ChunkSource, type EncodedChunk, type ManifestRoot, type SplitOptions } from './chunks.js';
import { syncDir, tempName, writeDurable } from './store.js';
import type { Manifest } from '../types.js';

/** Folder of the chunks, inside a collection's folder (beside `manifests/`). */
export const CHUNK_DIR = 'chunks';

const ID = /^[0-9a-f]{32}$/;

/** Reads chunks from `chunksDir`. */
export function fileChunkSource(chunksDir: string): ChunkSource {
  const file = (id: string, ext: string): string => {
    if (!ID.test(id)) throw new Error(`invalid chunk id ${JSON.stringify(id)}`);
    return path.join(chunksDir, `${id}.${ext}.json`);
  };
  return {
    index: (id) => fs.readFileSync(file(id, 'i'), 'utf8'),
    entries: (id) => fs.readFileSync(file(id, 'c'), 'utf8'),
  };
}

/**
 * The version file text and the chunks to write for `manifest`, as a delta over `previousRoot` when
 * that is a chunked root and `previous` its manifest.
 */
export function encodeVersion(manifest: Manifest, previous?: { text: string; manifest: Manifest }, options: Omit<SplitOptions, 'previous'> = {}): { text: string; root: ManifestRoot; chunks: EncodedChunk[] } {
  let prev: SplitOptions['previous'];
  if (previous) {
    const doc = JSON.parse(previous.text) as { manifestFormat?: number };
    if (doc.manifestFormat === 2) prev = { root: doc as ManifestRoot, manifest: previous.manifest };
  }
  const { root, chunks } = splitManifest(manifest, { ...options, ...(prev ? { previous: prev } : {}) });
  return { text: JSON.stringify(root), root, chunks };
}

/** Loads a version file's text (format 1 or 2) with chunks from `chunksDir`. */
export function decodeVersion(text: string, chunksDir: string): Manifest {
  return loadManifestVersion(text, fileChunkSource(chunksDir));
}

/**
 * Writes the chunks that are not on disk yet: each object complete and fsynced under a temporary
 * name, then linked to its final name (fails if it exists: then the same content is normally already
 * there; an object found with other content was damaged and is replaced by an atomic rename).
 * Returns the bytes written.
 */
export function writeChunks(dir: string, chunks: EncodedChunk[]): number {
  if (chunks.length === 0) return 0;
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let bytes = 0;
  for (const c of chunks) {
    for (const [ext, text] of [['i', c.index], ['c', c.entries]] as const) {
      const file = path.join(dir, `${c.id}.${ext}.json`);
      // An object already there is normally this content (same id). One that is not was damaged on
      // disk: it is replaced (atomically) rather than left to break every version that lists it.
      if (fs.existsSync(file) && sameText(file, text)) continue;
      const tmp = tempName(file);
      writeDurable(tmp, text);
      try {
        fs.linkSync(tmp, file);
        bytes += Buffer.byteLength(text);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (!sameText(file, text)) {
          fs.renameSync(tmp, file);
          bytes += Buffer.byteLength(text);
        }
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
  }
  syncDir(dir);
  return bytes;
}

function sameText(file: string, text: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}

/**
 * Removes chunk objects no kept version references. `keptTexts` are the version files' texts of every
 * version kept (format-1 texts reference none). Call under the collection's lock, after the commit.
 */
export function pruneChunks(dir: string, keptTexts: string[]): number {
  const live = new Set<string>();
  for (const t of keptTexts) {
    const doc = JSON.parse(t) as { manifestFormat?: number; chunks?: { id: string }[] };
    if (doc.manifestFormat === 2) for (const c of doc.chunks ?? []) live.add(c.id);
  }
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) {
    const id = n.slice(0, 32);
    if (n.startsWith('.tmp-') || (/^[0-9a-f]{32}\.[ic]\.json$/.test(n) && !live.has(id))) {
      fs.rmSync(path.join(dir, n), { force: true });
      removed++;
    }
  }
  return removed;
}

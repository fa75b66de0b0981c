/**
 * Chunked manifest versions on disk, for the version store: chunks live in a collection's
 * `chunks/<id>.i.json` (file index) and `<id>.c.json` (entries), written once each
 * (exclusive create of complete, durable content; content addressing makes an existing name the same
 * content), and pruned when no kept version references them.
 *
 * A commit is: {@link ChunkWriter} (missing chunks only, flushed together) → the root as the version file (exclusive) →
 * the `CURRENT` flip → {@link pruneChunks} over the kept versions. A crash before the flip leaves at
 * most unreferenced chunks, which the next prune removes.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifestVersion, splitManifest, type ChunkSource, type EncodedChunk, type ManifestRoot, type SplitOptions } from './chunks.js';
import { allSynced, removeTemps, syncDirAsync, writePending, type PendingFile } from './durable.js';
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
 * Writes chunk objects that are not on disk yet, their fsyncs overlapping: {@link ChunkWriter.add}
 * writes each object complete under a temporary name and starts its fsync (so a commit can encode
 * the next chunk meanwhile, holding one chunk's text at a time); {@link ChunkWriter.finish} waits for
 * every flush, links each object to its final name (an object already there is normally this
 * content; one found with other content was damaged and is replaced by an atomic rename), then syncs
 * the folder once. Nothing is linked before every object is durable.
 */
export class ChunkWriter {
  private readonly pending: PendingFile[] = [];
  private made = false;
  /** True when this writer created the folder: nothing can be in it yet, so no name needs checking. */
  private fresh = false;

  constructor(readonly dir: string) {}

  /** Starts writing the objects of `c` that are not on disk with this content yet. */
  add(c: EncodedChunk): void {
    if (!this.made) {
      try {
        fs.mkdirSync(this.dir);
        this.fresh = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      this.made = true;
    }
    for (const [ext, content] of [['i', c.bytes?.index ?? c.index], ['c', c.bytes?.entries ?? c.entries]] as const) {
      const file = path.join(this.dir, `${c.id}.${ext}.json`);
      if (!this.fresh && fs.existsSync(file) && sameContent(file, content)) continue;
      this.pending.push(writePending(file, content));
    }
  }

  /** Makes what {@link ChunkWriter.add} wrote durable and visible; returns the bytes written. */
  async finish(): Promise<number> {
    try {
      await allSynced(this.pending);
      let bytes = 0;
      for (const p of this.pending) {
        try {
          fs.linkSync(p.tmp, p.file);
          bytes += p.bytes;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          if (!sameContent(p.file, fs.readFileSync(p.tmp))) {
            fs.renameSync(p.tmp, p.file);
            bytes += p.bytes;
          }
        }
      }
      if (this.pending.length > 0) await syncDirAsync(this.dir);
      return bytes;
    } finally {
      this.abort();
    }
  }

  /** Removes the temporary files (after a failure; {@link ChunkWriter.finish} does it itself). */
  abort(): void {
    removeTemps(this.pending);
    this.pending.length = 0;
  }
}

/** Writes the chunks that are not on disk yet (see {@link ChunkWriter}); returns the bytes written. */
export async function writeChunks(dir: string, chunks: EncodedChunk[]): Promise<number> {
  if (chunks.length === 0) return 0;
  const writer = new ChunkWriter(dir);
  try {
    for (const c of chunks) writer.add(c);
  } catch (e) {
    writer.abort();
    throw e;
  }
  return writer.finish();
}

function sameContent(file: string, content: string | Uint8Array): boolean {
  try {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    return fs.readFileSync(file).equals(bytes);
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

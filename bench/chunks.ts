/**
 * The chunked manifest format on a real manifest (a parquet lake refreshed by the engine): bytes and
 * time to encode a full version and a version after touching 1% of the files (a delta), to assemble
 * a whole manifest, and to load the file index alone — what a chunked store commits and reads.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefreshEngine } from '../src/engine/engine.js';
import { assembleManifest, loadFileIndex, splitManifest, type ChunkSource, type EncodedChunk } from '../src/manifest/chunks.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

/** What {@link chunksBench} measured. */
export interface ChunksBenchResult {
  files: number;
  /** One JSON document (format 1), bytes. */
  singleFileBytes: number;
  /** Full version in chunks: root + chunk bytes, and ms to encode. */
  full: { rootBytes: number; chunkBytes: number; ms: number };
  /** After touching 1% of the files: root + delta bytes, and ms to encode. */
  touch1pct: { rootBytes: number; chunkBytes: number; ms: number };
  /** ms to assemble the whole manifest with the delta applied. */
  assembleMs: number;
  /** ms to load the file index alone. */
  fileIndexMs: number;
}

const bytesOf = (chunks: EncodedChunk[]): number => chunks.reduce((n, c) => n + c.index.length + c.entries.length, 0);

/**
 * @example
 * ```ts
 * await chunksBench(10_000, console.log);
 * ```
 */
export async function chunksBench(files: number, log: (line: string) => void): Promise<ChunksBenchResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-chunks-'));
  try {
    const lake = path.join(tmp, 'lake');
    fs.mkdirSync(lake);
    const { paths } = await writeManyParquetFiles(lake, files);
    const engine = new RefreshEngine({ root: path.join(tmp, 'root') });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const refresh = async (): Promise<void> => {
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      if (info.state !== 'RefreshCompleted') throw new Error(info.reason);
    };
    await refresh();
    const m1 = await engine.getManifest({ collectionName: 'c' });
    const later = new Date(Date.now() + 60_000);
    paths.forEach((p, i) => i % 100 === 37 && fs.utimesSync(path.join(lake, p), later, later));
    await refresh();
    const m2 = await engine.getManifest({ collectionName: 'c' });

    let t0 = performance.now();
    const s1 = splitManifest(m1);
    const fullMs = performance.now() - t0;
    t0 = performance.now();
    const s2 = splitManifest(m2, { previous: { root: s1.root, manifest: m1 } });
    const deltaMs = performance.now() - t0;
    const objects = new Map([...s1.chunks, ...s2.chunks].map((c) => [c.id, c]));
    const source: ChunkSource = { index: (id) => objects.get(id)!.index, entries: (id) => objects.get(id)!.entries };
    t0 = performance.now();
    const back = assembleManifest(s2.root, source);
    const assembleMs = performance.now() - t0;
    if (back.files.length !== m2.files.length || back.segments.length !== m2.segments.length) throw new Error('assembled manifest differs');
    t0 = performance.now();
    const idx = loadFileIndex(s2.root, source);
    const fileIndexMs = performance.now() - t0;
    if (idx.paths.length !== files) throw new Error('file index differs');

    const r: ChunksBenchResult = {
      files,
      singleFileBytes: JSON.stringify(m2).length,
      full: { rootBytes: JSON.stringify(s1.root).length, chunkBytes: bytesOf(s1.chunks), ms: fullMs },
      touch1pct: { rootBytes: JSON.stringify(s2.root).length, chunkBytes: bytesOf(s2.chunks), ms: deltaMs },
      assembleMs,
      fileIndexMs,
    };
    const full = r.full.rootBytes + r.full.chunkBytes;
    const delta = r.touch1pct.rootBytes + r.touch1pct.chunkBytes;
    log(
      `chunks, ${files} files: one-document manifest ${r.singleFileBytes.toLocaleString('en-US')} B; chunked full ${full.toLocaleString('en-US')} B in ${fullMs.toFixed(0)} ms; ` +
        `1% touched ${delta.toLocaleString('en-US')} B (${((100 * delta) / full).toFixed(1)}% of full) in ${deltaMs.toFixed(0)} ms; ` +
        `assemble ${assembleMs.toFixed(0)} ms; file index alone ${fileIndexMs.toFixed(0)} ms`,
    );
    return r;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

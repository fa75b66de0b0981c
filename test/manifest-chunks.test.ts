// The chunked manifest format: real manifests (engine refreshes of DuckDB-written parquet files) split
// into a root and content-addressed chunks, assembled back, diffed and summarized; format-1 version
// files as the store writes them keep loading.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import {
  assembleManifest,
  loadFileIndex,
  loadManifestVersion,
  splitManifest,
  walkManifest,
  type ChunkSource,
  type EncodedChunk,
  type ManifestRoot,
} from '../src/manifest/chunks.js';
import { diffManifests } from '../src/manifest/diff.js';
import { manifestSummary } from '../src/manifest/summary.js';
import { manifestDigests } from '../src/manifest/digest.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import type { Manifest } from '../src/types.js';

let tmp: string;
let lake: string;
let paths: string[];
let versions: Manifest[] = [];

async function refresh(engine: RefreshEngine): Promise<Manifest> {
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state).toBe('RefreshCompleted');
  return engine.getManifest({ collectionName: 'c' });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-chunks-'));
  lake = path.join(tmp, 'lake');
  fs.mkdirSync(lake);
  ({ paths } = await writeManyParquetFiles(lake, 60));
}, 60_000);

// The three versions are refreshed in the tests' context (a beforeEach), not in beforeAll: lakemap code run
// from beforeAll makes Stryker mutants static (docs/testing.md). Memoised: three refreshes per run, as before.
let mapped: Promise<Manifest[]> | undefined;
async function realVersions(): Promise<Manifest[]> {
  const engine = new RefreshEngine({ root: path.join(tmp, 'root') });
  await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', segment_max_rows: 60 } });
  const out = [await refresh(engine)]; // v1: 60 files
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(lake, paths[13]!), later, later);
  out.push(await refresh(engine)); // v2: one file touched
  fs.rmSync(path.join(lake, paths[40]!));
  fs.copyFileSync(path.join(lake, paths[1]!), path.join(lake, 'd000', 'part-00013b.parquet'));
  out.push(await refresh(engine)); // v3: one removed, one added
  return out;
}
beforeEach(async () => {
  versions = await (mapped ??= realVersions());
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An in-memory chunk store that counts what each commit writes. */
class MemoryChunks implements ChunkSource {
  readonly objects = new Map<string, EncodedChunk>();
  reads = 0;
  put(chunks: EncodedChunk[]): number {
    let bytes = 0;
    for (const c of chunks) {
      expect(this.objects.has(c.id)).toBe(false); // a commit writes only chunks not there yet
      this.objects.set(c.id, c);
      bytes += c.index.length + c.entries.length;
    }
    return bytes;
  }
  index(id: string): string {
    this.reads++;
    return this.get(id).index;
  }
  entries(id: string): string {
    this.reads++;
    return this.get(id).entries;
  }
  private get(id: string): EncodedChunk {
    const c = this.objects.get(id);
    if (!c) throw new Error(`no chunk ${id}`);
    return c;
  }
}

const indexOf = (m: Manifest) => ({
  paths: m.files.map((f) => f.path),
  sizes: m.files.map((f) => f.sizeBytes),
  mtimes: m.files.map((f) => f.mtimeMs),
  fingerprints: m.files.map((f) => f.fingerprint),
  // The summary columns, after any deltas, say what the whole manifest says of each file.
  rows: m.files.map((f) => f.rows),
  live: m.files.map((f) => f.liveRows),
  segs: m.files.map((f) => m.segments.filter((s) => s.ranges[0]!.path === f.path).length),
  digests: manifestDigests(m).digests,
  chunkOf: expect.any(Array),
});

describe('chunked manifests', () => {
  it('split into base chunks and assembled back equal the manifest, and the same content gives the same ids', () => {
    const m = versions[0]!;
    expect(m.files).toHaveLength(60);
    expect(m.segments).toHaveLength(60); // one row group, so one segment, per file
    const store = new MemoryChunks();
    const { root, chunks } = splitManifest(m, { chunkFiles: 16 });
    store.put(chunks);
    expect(root.chunks.map((c) => [c.kind, c.files])).toEqual([['base', 16], ['base', 16], ['base', 16], ['base', 12]]);
    expect(root.fileCount).toBe(60);
    expect(root.segmentCount).toBe(m.segments.length);
    expect(root.chunks.reduce((n, c) => n + c.segments, 0)).toBe(m.segments.length);
    expect(JSON.stringify(root).length).toBeLessThan(JSON.stringify(m).length / 4);
    expect(assembleManifest(root, store)).toEqual(m);
    expect(splitManifest(m, { chunkFiles: 16 }).chunks.map((c) => c.id)).toEqual(chunks.map((c) => c.id));
    // committed again over itself: nothing new to write, same chunks
    const again = splitManifest(m, { previous: { root, manifest: m } });
    expect(again.chunks).toEqual([]);
    expect(again.root.chunks).toEqual(root.chunks);
  });

  it('hands each new base chunk over as it is encoded when asked (onChunk), the same chunks in the same order', () => {
    const m = versions[0]!;
    const whole = splitManifest(m, { chunkFiles: 16 });
    const handed: string[] = [];
    const streamed = splitManifest(m, { chunkFiles: 16, onChunk: (c) => handed.push(c.id) });
    expect(streamed.chunks).toEqual([]);
    expect(handed).toEqual(whole.chunks.map((c) => c.id));
    expect(streamed.root).toEqual(whole.root);
    // chunks a previous version already has are neither collected nor handed over
    const again: string[] = [];
    splitManifest(m, { chunkFiles: 16, previous: { root: { ...whole.root, chunks: whole.root.chunks.slice(0, 2) }, manifest: { ...m, contentHash: 'other' } }, onChunk: (c) => again.push(c.id) });
    expect(again).toEqual(whole.chunks.slice(2).map((c) => c.id));
  });

  it('writes a delta of the changed files only, and assembles, walks and indexes versions with deltas', () => {
    const [m1, m2, m3] = versions as [Manifest, Manifest, Manifest];
    const store = new MemoryChunks();
    const s1 = splitManifest(m1, { chunkFiles: 16 });
    const full = store.put(s1.chunks);
    const s2 = splitManifest(m2, { previous: { root: s1.root, manifest: m1 } });
    const touched = store.put(s2.chunks);
    expect(s2.root.chunks.map((c) => [c.kind, c.files, c.removed])).toEqual([...s1.root.chunks.map((c) => [c.kind, c.files, 0]), ['delta', 1, 0]]);
    expect(touched).toBeLessThan(full / 20);
    const s3 = splitManifest(m3, { previous: { root: s2.root, manifest: m2 } });
    store.put(s3.chunks);
    expect(s3.root.chunks.at(-1)).toMatchObject({ kind: 'delta', files: 1, removed: 1 });

    for (const [m, root] of [[m2, s2.root], [m3, s3.root]] as [Manifest, ManifestRoot][]) {
      expect(assembleManifest(root, store)).toEqual(m);
      const walked = [...walkManifest(root, store)];
      expect(walked.map((w) => w.file)).toEqual(m.files);
      expect(walked.flatMap((w) => w.segments)).toEqual(m.segments);
      expect(loadFileIndex(root, store)).toEqual(indexOf(m));
    }
  });

  it('writes base chunks, not a delta, when the previous manifest given is not the one its root encodes', () => {
    const [m1, m2, m3] = versions as [Manifest, Manifest, Manifest];
    const store = new MemoryChunks();
    const s1 = splitManifest(m1, { chunkFiles: 16 });
    store.put(s1.chunks);
    const s3 = splitManifest(m3, { previous: { root: s1.root, manifest: m2 } }); // wrong base
    store.put(s3.chunks);
    expect(s3.root.chunks.every((c) => c.kind === 'base')).toBe(true);
    expect(assembleManifest(s3.root, store)).toEqual(m3);
  });

  it('loads the file index without reading any entries object', () => {
    const store = new MemoryChunks();
    const { root, chunks } = splitManifest(versions[0]!, { chunkFiles: 16 });
    store.put(chunks);
    let entryReads = 0;
    const indexOnly: ChunkSource = { index: (id) => store.index(id), entries: () => (entryReads++, '') };
    expect(loadFileIndex(root, indexOnly)).toEqual(indexOf(versions[0]!));
    expect(entryReads).toBe(0);
  });

  it('compacts deltas into base chunks past the delta budget, rewriting only runs whose content changed', () => {
    const [m1, m2] = versions as [Manifest, Manifest];
    const store = new MemoryChunks();
    const s1 = splitManifest(m1, { chunkFiles: 16 });
    store.put(s1.chunks);
    const s2 = splitManifest(m2, { previous: { root: s1.root, manifest: m1 }, maxDeltaFraction: 0 });
    store.put(s2.chunks);
    expect(s2.root.chunks.every((c) => c.kind === 'base')).toBe(true);
    expect(s2.chunks).toHaveLength(1); // the touched file (index 13) lives in the first run only
    expect(s2.root.chunks.slice(1)).toEqual(s1.root.chunks.slice(1));
    expect(assembleManifest(s2.root, store)).toEqual(m2);
  });

  it('keeps table order (no deltas) for manifests not in path order', () => {
    const m = versions[0]!;
    const order = [...m.files].reverse();
    const reversed: Manifest = { ...m, files: order, segments: order.flatMap((f) => m.segments.filter((s) => s.ranges[0]!.path === f.path)) };
    const store = new MemoryChunks();
    const s1 = splitManifest(reversed, { chunkFiles: 16 });
    store.put(s1.chunks);
    expect(s1.root.pathOrdered).toBe(false);
    const changed: Manifest = { ...reversed, files: reversed.files.map((f, i) => (i === 3 ? { ...f, mtimeMs: f.mtimeMs + 1 } : f)) };
    const s2 = splitManifest(changed, { previous: { root: s1.root, manifest: reversed } });
    store.put(s2.chunks);
    expect(s2.root.chunks.every((c) => c.kind === 'base')).toBe(true);
    expect(assembleManifest(s2.root, store)).toEqual(changed);
  });

  it('loads a format-1 version file as lakemap wrote it before chunks (migration)', () => {
    const text = JSON.stringify(versions[2]); // the earlier store wrote exactly this
    expect(JSON.parse(text).manifestFormat).toBe(1);
    const never: ChunkSource = { index: () => expect.fail('no chunk read for format 1'), entries: () => expect.fail('no chunk read for format 1') };
    expect(loadManifestVersion(text, never)).toEqual(versions[2]);
    // and a chunked version file loads through the same call
    const store = new MemoryChunks();
    const { root, chunks } = splitManifest(versions[2]!, { chunkFiles: 8 });
    store.put(chunks);
    expect(loadManifestVersion(JSON.stringify(root), store)).toEqual(versions[2]);
    expect(() => loadManifestVersion('{"manifestFormat":9}', store)).toThrow(/unknown manifestFormat 9/);
  });

  it('refuses chunks that do not add up to what the root says', () => {
    const store = new MemoryChunks();
    const { root, chunks } = splitManifest(versions[0]!, { chunkFiles: 16 });
    store.put(chunks);
    expect(() => assembleManifest({ ...root, chunks: root.chunks.slice(1) }, store)).toThrow(/the root says 60/);
  });
});

describe('manifestSummary', () => {
  it('gives the same figures from a root alone as from the whole manifest', () => {
    const m = versions[2]!;
    const { root } = splitManifest(m, { chunkFiles: 16 });
    const s = manifestSummary(root);
    expect(s).toEqual(manifestSummary(m));
    expect(s).toMatchObject({ version: 3, files: 60, segments: m.segments.length, totalRows: m.totalRows, schema: m.schema });
  });
});

describe('diffManifests', () => {
  it('names files and segments added, removed, modified and kept between real versions', () => {
    const [m1, m2, m3] = versions as [Manifest, Manifest, Manifest];
    const touched = m1.files[13]!.path;
    const d12 = diffManifests(m1, m2);
    expect(d12.files).toEqual({ added: [], removed: [], modified: [touched], kept: 59 });
    const touchedSegs = m1.segments.filter((s) => s.ranges[0]!.path === touched);
    expect(d12.segments.removed.sort()).toEqual(touchedSegs.map((s) => s.id).sort());
    expect(d12.segments.added.map((s) => s.ranges[0]!.path)).toEqual(touchedSegs.map(() => touched));
    expect(d12.segments.kept).toBe(m1.segments.length - touchedSegs.length);

    const d13 = diffManifests(m1, m3);
    expect(d13.files.added).toEqual(['d000/part-00013b.parquet']);
    expect(d13.files.removed).toEqual([m1.files[40]!.path]);
    expect(d13.files.modified).toEqual([touched]);
    expect(d13.files.kept).toBe(58);
    expect(d13.fromVersion).toBe(1);
    expect(d13.toVersion).toBe(3);
    expect(diffManifests(m3, m3).segments).toEqual({ added: [], removed: [], kept: m3.segments.length });
  });
});

describe('chunk files on disk', () => {
  it('writes each chunk once, loads versions back, and prunes only unreferenced chunks', async () => {
    const { encodeVersion, decodeVersion, writeChunks, pruneChunks } = await import('../src/manifest/chunk-files.js');
    const dir = fs.mkdtempSync(path.join(tmp, 'chunks-'));
    const [m1, m2, m3] = versions as [Manifest, Manifest, Manifest];
    const e1 = encodeVersion(m1, undefined, { chunkFiles: 16 });
    const full = await writeChunks(dir, e1.chunks);
    expect(full).toBeGreaterThan(0);
    expect(await writeChunks(dir, e1.chunks)).toBe(0); // already there: nothing rewritten
    const e2 = encodeVersion(m2, { text: e1.text, manifest: m1 });
    const delta = await writeChunks(dir, e2.chunks);
    expect(delta).toBeGreaterThan(0);
    expect(delta).toBeLessThan(full / 20);
    expect(decodeVersion(e1.text, dir)).toEqual(m1);
    expect(decodeVersion(e2.text, dir)).toEqual(m2);
    // a format-1 previous version: the next version is written whole, in base chunks
    const e3 = encodeVersion(m3, { text: JSON.stringify(m2), manifest: m2 });
    expect(e3.root.chunks.every((c) => c.kind === 'base')).toBe(true);
    await writeChunks(dir, e3.chunks);
    fs.writeFileSync(path.join(dir, '.tmp-1-dead'), 'left by a killed writer');
    const before = fs.readdirSync(dir).length;
    // keep v2 and v3: v1's chunks are all still used by v2 (base + delta), so only the temp file goes
    expect(pruneChunks(dir, [e2.text, e3.text])).toBe(1);
    expect(decodeVersion(e2.text, dir)).toEqual(m2);
    // keep v3 only: v1/v2 chunks that v3 does not share go
    const removed = pruneChunks(dir, [e3.text]);
    expect(removed).toBeGreaterThan(0);
    expect(fs.readdirSync(dir)).toHaveLength(before - 1 - removed);
    expect(decodeVersion(e3.text, dir)).toEqual(m3);
    expect(() => decodeVersion(e2.text, dir)).toThrow(/ENOENT/);
  });
});

describe('summaries and diffs of stored versions', () => {
  it('summarizes a format-1 version file and a chunked root alike', async () => {
    const { summaryOfVersionText } = await import('../src/manifest/summary.js');
    const text = JSON.stringify(versions[1]);
    const { root } = splitManifest(versions[1]!, { chunkFiles: 16 });
    expect(summaryOfVersionText(JSON.stringify(root))).toEqual(summaryOfVersionText(text));
    expect(summaryOfVersionText(text)).toMatchObject({ version: 2, files: 60, totalRows: versions[1]!.totalRows });
    expect(() => summaryOfVersionText('{"manifestFormat":3}')).toThrow(/unknown manifestFormat 3/);
  });

  it('diffs two versions read through the store', async () => {
    const { diffManifestVersions } = await import('../src/manifest/diff.js');
    const d = diffManifestVersions((v) => versions[v - 1]!, 2, 3);
    expect(d.files.added).toEqual(['d000/part-00013b.parquet']);
    expect(d.files.removed).toHaveLength(1);
    expect(d.files.modified).toEqual([]);
  });
});

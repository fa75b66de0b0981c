// The store writes chunked versions: a small change writes a small delta, old format-1 version files
// keep loading, damaged chunks are caught, unreferenced chunks are pruned; summaries and diffs via the engine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { LakemapError } from '../src/errors.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

let tmp: string;
let lake: string;
let paths: string[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-chunk-store-'));
  lake = path.join(tmp, 'lake');
  fs.mkdirSync(lake);
  ({ paths } = await writeManyParquetFiles(lake, 300));
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function setup(name: string, keepVersions = 10) {
  const root = path.join(tmp, name);
  const engine = new RefreshEngine({ root, keepVersions, workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
  const dir = path.join(root, 'default', 'c');
  const refresh = async () => {
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    return info;
  };
  return { root, engine, dir, refresh, chunks: path.join(dir, 'chunks'), manifests: path.join(dir, 'manifests') };
}

const bytesIn = (dir: string): Map<string, number> => new Map(fs.readdirSync(dir).map((n) => [n, fs.statSync(path.join(dir, n)).size]));
const touch = (p: string, ms: number): void => fs.utimesSync(path.join(lake, p), new Date(ms), new Date(ms));

describe('chunked versions in the store', () => {
  it('writes a root and chunks; touching one file writes a delta of a few KB; every version reads back whole', async () => {
    const s = await setup('delta');
    await s.refresh();
    const v1 = await s.engine.getManifest({ collectionName: 'c' });
    const root1 = JSON.parse(fs.readFileSync(path.join(s.manifests, 'v000001.json'), 'utf8'));
    expect(root1.manifestFormat).toBe(2);
    expect(root1.fileCount).toBe(300);
    const full = [...bytesIn(s.chunks).values()].reduce((a, b) => a + b, 0);
    const before = bytesIn(s.chunks);
    touch(paths[7]!, Date.now() + 60_000);
    await s.refresh();
    const after = bytesIn(s.chunks);
    const written = [...after].filter(([n]) => !before.has(n)).reduce((a, [, b]) => a + b, 0);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(full / 50);
    const root2 = JSON.parse(fs.readFileSync(path.join(s.manifests, 'v000002.json'), 'utf8'));
    expect(root2.chunks.at(-1)).toMatchObject({ kind: 'delta', files: 1 });
    const v2 = await new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' });
    expect(v2.files).toHaveLength(300);
    expect(v2.files.map((f) => f.path)).toEqual(v1.files.map((f) => f.path));
    expect(v2.files[7]!.fingerprint).not.toBe(v1.files[7]!.fingerprint);
    expect(await s.engine.getManifest({ collectionName: 'c', version: 1 })).toEqual(v1);
  });

  it('keeps reading a format-1 version file and commits the next version chunked', async () => {
    const s = await setup('legacy');
    await s.refresh();
    const m = await s.engine.getManifest({ collectionName: 'c' });
    // What lakemap wrote before chunks: the whole manifest in the version file, no chunks folder.
    fs.writeFileSync(path.join(s.manifests, 'v000001.json'), JSON.stringify(m));
    fs.rmSync(s.chunks, { recursive: true });
    const fresh = new RefreshEngine({ root: s.root, workers: 0 });
    expect(await fresh.getManifest({ collectionName: 'c' })).toEqual(m);
    touch(paths[8]!, Date.now() + 120_000);
    const info = await fresh.waitForRefresh((await fresh.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info).toMatchObject({ state: 'RefreshCompleted', version: 2, committed: true });
    expect(info.changes?.files).toMatchObject({ modified: 1, unchanged: 299 });
    expect(JSON.parse(fs.readFileSync(path.join(s.manifests, 'v000002.json'), 'utf8')).manifestFormat).toBe(2);
    expect((await fresh.getManifest({ collectionName: 'c', version: 1 })).files).toEqual(m.files);
  });

  it('fails a version whose chunk is missing or damaged with MANIFEST_CORRUPT', async () => {
    const s = await setup('damaged');
    await s.refresh();
    const [entries] = fs.readdirSync(s.chunks).filter((n) => n.endsWith('.c.json'));
    const file = path.join(s.chunks, entries!);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('"rows":', '"rows":-'));
    const read = () => new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' });
    await expect(read()).rejects.toSatisfy((e: unknown) => LakemapError.is(e) && e.code === 'MANIFEST_CORRUPT');
    fs.rmSync(file);
    await expect(read()).rejects.toThrow(/chunks cannot be read/);
  });

  it('prunes chunks that no kept version references', async () => {
    const s = await setup('prune', 1);
    await s.refresh();
    const first = new Set(fs.readdirSync(s.chunks));
    touch(paths[20]!, Date.now() + 200_000);
    await s.refresh(); // a delta: v1's base chunks stay referenced
    expect([...first].every((n) => fs.existsSync(path.join(s.chunks, n)))).toBe(true);
    // A killed commit's leftovers: a chunk no version lists and a temporary file.
    fs.writeFileSync(path.join(s.chunks, `${'ab'.repeat(16)}.c.json`), '{}');
    fs.writeFileSync(path.join(s.chunks, '.tmp-1-dead'), '');
    for (let i = 0; i < 80; i++) touch(paths[100 + i]!, Date.now() + 400_000);
    await s.refresh(); // 80 of 300 files changed: past the delta budget, so fresh base chunks
    const root = JSON.parse(fs.readFileSync(path.join(s.manifests, 'v000003.json'), 'utf8'));
    expect(root.chunks.map((c: { kind: string }) => c.kind)).toEqual(['base']);
    const live = new Set<string>(root.chunks.flatMap((c: { id: string }) => [`${c.id}.i.json`, `${c.id}.c.json`]));
    expect(new Set(fs.readdirSync(s.chunks))).toEqual(live);
    expect([...first].some((n) => live.has(n))).toBe(false);
    expect(fs.readdirSync(s.manifests).filter((n) => n.endsWith('.json'))).toEqual(['v000003.json']);
    expect((await new RefreshEngine({ root: s.root }).getManifest({ collectionName: 'c' })).files).toHaveLength(300);
  });
});

describe('engine summaries and diffs', () => {
  it('summarizes a version from its root and diffs two versions', async () => {
    const s = await setup('api');
    await s.refresh();
    touch(paths[30]!, Date.now() + 300_000);
    fs.rmSync(path.join(lake, paths[299]!));
    try {
      await s.refresh();
      const m = await s.engine.getManifest({ collectionName: 'c' });
      const summary = await s.engine.getManifestSummary({ collectionName: 'c' });
      expect(summary).toMatchObject({ version: 2, files: 299, segments: m.segments.length, totalRows: m.totalRows, schema: m.schema, contentHash: m.contentHash });
      expect(await s.engine.getManifestSummary({ collectionName: 'c', version: 1 })).toMatchObject({ version: 1, files: 300 });
      const d = await s.engine.diffManifestVersions({ collectionName: 'c' }, 1, 2);
      expect(d.files).toEqual({ added: [], removed: [paths[299]], modified: [paths[30]], kept: 298 });
      expect(d.segments.added.map((x) => x.ranges[0]!.path)).toEqual([paths[30]]);
      expect(d.segments.removed).toHaveLength(2);
      await expect(s.engine.diffManifestVersions({ collectionName: 'c' }, 1, 9)).rejects.toSatisfy((e: unknown) => LakemapError.is(e) && e.code === 'MANIFEST_NOT_FOUND');
    } finally {
      fs.copyFileSync(path.join(lake, paths[295]!), path.join(lake, paths[299]!)); // same template (i % 4)
    }
  });
});

// An engine keeps the file index of the version it last checked, so its next no-change refresh costs
// the listing alone; it must drop it the moment the version file is another.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { VersionStore } from '../src/manifest/versions.js';
import * as chunkRead from '../src/manifest/chunk-read.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

let tmp: string;
let lake: string;
let paths: string[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-index-cache-'));
  lake = path.join(tmp, 'lake');
  fs.mkdirSync(lake);
  ({ paths } = await writeManyParquetFiles(lake, 30));
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function refresh(e: RefreshEngine) {
  const info = await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return info;
}

const touch = (p: string, ms: number): void => fs.utimesSync(path.join(lake, p), new Date(ms), new Date(ms));

describe('file index held by an engine', () => {
  it('is loaded once for repeated no-change refreshes, and again after another engine commits', async () => {
    const root = path.join(tmp, 'root');
    const writer = new RefreshEngine({ root, workers: 0 });
    await writer.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await refresh(writer);

    const loads = vi.spyOn(VersionStore.prototype, 'fileIndex');
    const checker = new RefreshEngine({ root, workers: 0 });
    expect(await refresh(checker)).toMatchObject({ version: 1, committed: false });
    expect(await refresh(checker)).toMatchObject({ version: 1, committed: false });
    expect(loads).toHaveBeenCalledTimes(1);

    // Another engine commits version 2: the held index of version 1 must not decide the next refresh.
    touch(paths[3]!, Date.now() + 120_000);
    expect(await refresh(writer)).toMatchObject({ version: 2, committed: true });
    loads.mockClear();
    const again = await refresh(checker);
    expect(again).toMatchObject({ version: 2, committed: false, warnings: [] });
    expect(again.changes?.files).toEqual({ added: 0, removed: 0, modified: 0, unchanged: 30 });
    expect(loads).toHaveBeenCalled();

    // And a change seen through the held index of version 2 commits version 3 with just that file.
    touch(paths[7]!, Date.now() + 240_000);
    const changed = await refresh(checker);
    expect(changed).toMatchObject({ version: 3, committed: true });
    expect(changed.changes?.modifiedPaths).toEqual([paths[7]]);
  });
});

describe('chunk indexes parsed by an engine', () => {
  it('are parsed once: re-reading the next version parses only the chunks it does not share with the last', async () => {
    const root = path.join(tmp, 'root-memo');
    const e = new RefreshEngine({ root, workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await refresh(e);
    touch(paths[1]!, Date.now() + 360_000);
    expect(await refresh(e)).toMatchObject({ version: 2, committed: true });

    const parses = vi.spyOn(chunkRead, 'parseIndexText');
    const versionsDir = (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => path.join(root, p)).find((p) => p.endsWith(`${path.sep}manifests`))!;
    const rootOf = (v: number): { chunks: { id: string }[] } => JSON.parse(fs.readFileSync(path.join(versionsDir, `v${String(v).padStart(6, '0')}.json`), 'utf8'));
    touch(paths[2]!, Date.now() + 480_000);
    expect(await refresh(e)).toMatchObject({ version: 3, committed: true });
    touch(paths[4]!, Date.now() + 600_000);
    parses.mockClear();
    const fourth = await refresh(e);
    expect(fourth).toMatchObject({ version: 4, committed: true });
    expect(fourth.changes?.modifiedPaths).toEqual([paths[4]]);
    // Version 4 was built from version 3's index: of its chunks, only those version 2 lacked were parsed.
    const before = new Set(rootOf(2).chunks.map((c) => c.id));
    const fresh = rootOf(3).chunks.filter((c) => !before.has(c.id));
    expect(fresh.length).toBeGreaterThan(0);
    expect(rootOf(3).chunks.length).toBeGreaterThan(fresh.length);
    expect(parses.mock.calls.map((c) => c[0]).sort()).toEqual(fresh.map((c) => c.id).sort());
  });
});

// An engine keeps the file index of the version it last checked, so its next no-change refresh costs
// the listing alone; it must drop it the moment the version file is another.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { VersionStore } from '../src/manifest/versions.js';
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

// A watch with native events hands its events' paths to the next refresh as `changedPaths`: the job
// records a hinted listing, the manifest is what a full refresh gives, a refresh that fails keeps the
// paths it took for the next one, and the first refresh is full. PendingPaths is the bookkeeping.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { PendingPaths } from '../src/watch/pending-paths.js';
import type { Manifest, RefreshJobInfo } from '../src/types.js';
import type { WatchHandle } from '../src/watch/watch.js';
import { parquetTemplates } from './helpers/parquet-templates.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

let templates: Buffer[] = [];
beforeAll(async () => {
  templates = await parquetTemplates(3, (t) => 30 + 10 * t);
}, 120_000);

describe('PendingPaths', () => {
  it('starts full, hands paths to one refresh, and takes them back when it does not complete', () => {
    const p = new PendingPaths(4);
    p.add(['a']);
    expect(p.take()).toEqual({ paths: undefined }); // the first refresh lists everything
    p.add(['a', 'b']);
    const t = p.take();
    expect(t.paths).toEqual(['a', 'b']);
    p.add(['c']); // arrived while that refresh ran
    p.putBack(t); // it failed
    expect(p.take().paths?.sort()).toEqual(['a', 'b', 'c']);
    expect(p.take().paths).toEqual([]); // it completed: nothing left
    p.add(['1', '2', '3', '4', '5']); // past the cap
    expect(p.wantsFull).toBe(true);
    expect(p.take().paths).toBeUndefined();
    p.add(['x']);
    p.needFull(); // lost events
    const full = p.take();
    expect(full.paths).toBeUndefined();
    p.add(['y']);
    p.putBack(full); // a full refresh that failed: the next is full again
    expect(p.take().paths).toBeUndefined();
  });
});

describe('a watch with native events', () => {
  const strip = (m: Manifest) => {
    const { createdAt: _c, jobId: _j, version: _v, ...rest } = m;
    return rest;
  };
  async function reference(lake: string): Promise<Manifest> {
    const e = new RefreshEngine({ root: tempDir(), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    await e.waitForRefresh((await e.refreshExternalCollection({ collectionName: 'c' })).jobId);
    return e.getManifest({ collectionName: 'c' });
  }

  it('refreshes from the changed paths alone, keeps them across a failed refresh, and ends where a full refresh does', async () => {
    const lake = tempDir();
    for (let i = 0; i < 6; i++) {
      fs.mkdirSync(path.join(lake, `d${i % 2}`), { recursive: true });
      fs.writeFileSync(path.join(lake, `d${i % 2}`, `f${i}.parquet`), templates[i % 3]!);
    }
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const w: WatchHandle = engine.watch({ collectionName: 'c' }, { mechanism: 'parcel', debounceMs: 150 });
    const ends: RefreshJobInfo[] = [];
    w.on('refreshend', (e) => ends.push(e.job!));
    const next = (after: number): Promise<RefreshJobInfo> => waitFor(`refresh #${after + 1}`, () => ends.length > after && ends[after]);
    try {
      await w.ready;
      expect(w.status().mechanism).toBe('parcel');
      const first = await next(0);
      expect(first.state).toBe('RefreshCompleted');
      expect(first.hint).toBeUndefined(); // the first refresh lists the whole source

      fs.writeFileSync(path.join(lake, 'd0', 'new.parquet'), templates[1]!);
      const added = await next(1);
      expect(added).toMatchObject({ state: 'RefreshCompleted', committed: true, hint: { listing: 'hinted' } });
      expect(added.changes?.addedPaths).toEqual(['d0/new.parquet']);

      // A good file and a broken one together: the refresh fails; its paths wait for the next.
      fs.writeFileSync(path.join(lake, 'd1', 'bad.parquet'), 'not parquet'); // first: every refresh from here fails until it goes
      fs.writeFileSync(path.join(lake, 'd1', 'good.parquet'), templates[2]!);
      const failed = await next(2);
      expect(failed).toMatchObject({ state: 'RefreshFailed', errorCode: 'CORRUPT_FILE', hint: { listing: 'hinted' } });
      fs.rmSync(path.join(lake, 'd1', 'bad.parquet'));
      const recovered = await waitFor('a completed refresh after the failure', () => ends.slice(3).find((j) => j.state === 'RefreshCompleted'));
      expect(recovered.hint?.listing).toBe('hinted');
      expect(recovered.changes?.addedPaths).toEqual(['d1/good.parquet']); // only known from the failed refresh's paths

      // A directory renamed to a name no change triggers on (x.tmp) is still listed, so still in the hint.
      const before = ends.length;
      fs.renameSync(path.join(lake, 'd0'), path.join(lake, 'd0.tmp'));
      const moved = await next(before);
      expect(moved).toMatchObject({ state: 'RefreshCompleted', hint: { listing: 'hinted' } });
      await waitFor('the manifest of the lake', async () => JSON.stringify(strip(await engine.getManifest({ collectionName: 'c' }))) === JSON.stringify(strip(await reference(lake))));
      expect((await engine.getManifest({ collectionName: 'c' })).files.map((f) => f.path)).toContain('d0.tmp/new.parquet');
    } finally {
      await w.close();
      await engine.close();
    }
  }, 90_000);
});

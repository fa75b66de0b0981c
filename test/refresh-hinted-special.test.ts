// Hinted paths that name no regular file or folder: a FIFO named directly, a path through a file. The
// hinted listing leaves them out as the full listing does (the job completes, the manifest is the full
// listing's). From the directory-wide mutation sample (docs/testing.md): the "neither file nor folder"
// return of `hinted-listing.ts` was never reached by a test.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import type { Manifest } from '../src/types.js';
import { parquetTemplates } from './helpers/parquet-templates.js';
import { tempDir } from './helpers/tmp.js';
import { refresh } from './helpers/engine-kit.js';

let templates: Buffer[] = [];
beforeAll(async () => {
  templates = await parquetTemplates(2, (t) => 30 + 10 * t);
}, 120_000);

const paths = (m: Manifest) => m.files.map((f) => [f.path, f.rows]);

describe('a hinted path that is no regular file or folder', () => {
  it('a FIFO named by the hint, and a path through a file, are not listed', async () => {
    const lake = tempDir();
    for (let i = 0; i < 6; i++) {
      fs.mkdirSync(path.join(lake, 'a'), { recursive: true });
      fs.writeFileSync(path.join(lake, 'a', `f${i}.parquet`), templates[i % 2]!);
    }
    const e = new RefreshEngine({ root: tempDir(), workers: 0 });
    await e.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    expect((await refresh(e)).state).toBe('RefreshCompleted');
    const before = paths(await e.getManifest({ collectionName: 'c' }));
    expect(spawnSync('mkfifo', [path.join(lake, 'a', 'fifo.parquet')]).status).toBe(0);
    fs.writeFileSync(path.join(lake, 'a', 'f0.parquet'), templates[1]!);
    const info = await refresh(e, ['a/fifo.parquet', 'a/f1.parquet/inside.parquet', 'a/f0.parquet']);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect(info.hint).toEqual({ listing: 'hinted', paths: 3 });
    const after = paths(await e.getManifest({ collectionName: 'c' }));
    expect(after).toEqual(before.map(([p, r]) => [p, p === 'a/f0.parquet' ? 40 : r]));
    // What the full listing gives.
    expect((await refresh(e)).committed).toBe(false);
  });
});

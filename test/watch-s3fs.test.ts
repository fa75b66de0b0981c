// A bucket mounted with s3fs and changed through the S3 API: no file-system event exists for such a
// change, so the watch must choose polling (from the mount's fs type) and still catch up.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { withDuckDB } from '../fixtures/parquet/index.js';
import { startS3, type LocalS3 } from './helpers/s3rver.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const missing = [
  !fs.existsSync('/dev/fuse') && '/dev/fuse (FUSE is not available here)',
  spawnSync('s3fs', ['--version']).error && 's3fs (apt-get install s3fs)',
].filter(Boolean);

describe('watching an s3fs mount changed through the S3 API', () => {
  let s3: LocalS3 | undefined;
  let mnt = '';
  const templates: Buffer[] = [];

  beforeAll(async () => {
    // Loud on purpose: this test must not pass silently where it cannot run.
    if (missing.length > 0) throw new Error(`the s3fs watch test needs ${missing.join(' and ')}`);
    const dir = tempDir();
    await withDuckDB(async (con) => {
      for (const rows of [10, 20, 30]) {
        const f = path.join(dir, `${rows}.parquet`);
        await con.run(`COPY (SELECT i AS id FROM range(${rows}) t(i)) TO '${f}' (FORMAT parquet)`);
        templates.push(fs.readFileSync(f));
      }
    });
    s3 = await startS3(['lake']);
    await s3.put('lake', 'a.parquet', templates[0]!);
    mnt = tempDir('lakemap-s3fs-');
    const pw = path.join(tempDir(), 'passwd');
    fs.writeFileSync(pw, 'S3RVER:S3RVER', { mode: 0o600 });
    // stat_cache_expire=1: s3fs caches stats for 900 s by default, hiding rewrites made through the API.
    const r = spawnSync('s3fs', ['lake', mnt, '-o', `url=${s3.endpoint}`, '-o', 'use_path_request_style', '-o', `passwd_file=${pw}`, '-o', 'stat_cache_expire=1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`s3fs failed to mount: ${r.stderr}`);
    await waitFor('the s3fs mount', () => fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `) && fs.existsSync(path.join(mnt, 'a.parquet')), 30_000);
  });

  afterAll(async () => {
    // Never leave the mount behind: the run's temp folder is removed recursively at teardown.
    if (mnt && spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
    await s3?.close();
  });

  it('chooses polling for the fuse.s3fs mount and follows puts, deletes and overwrites', async () => {
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'c', externalSource: mnt, externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'c' }, { debounceMs: 100, pollIntervalMs: 200 });
    try {
      await w.ready;
      expect(w.status().mechanism).toBe('poll');
      expect(w.status().reason).toContain('fuse.s3fs');
      const manifestIs = (files: Record<string, number>) =>
        waitFor(`manifest ${JSON.stringify(files)}`, async () => {
          const m = await engine.getManifest({ collectionName: 'c' });
          return JSON.stringify(Object.fromEntries(m.files.map((f) => [f.path, f.rows]))) === JSON.stringify(files) && m;
        });
      await manifestIs({ 'a.parquet': 10 });
      await s3!.put('lake', 'b.parquet', templates[1]!);
      await manifestIs({ 'a.parquet': 10, 'b.parquet': 20 });
      await s3!.put('lake', 'day=2/c.parquet', templates[0]!);
      await manifestIs({ 'a.parquet': 10, 'b.parquet': 20, 'day=2/c.parquet': 10 });
      await s3!.del('lake', 'a.parquet');
      await manifestIs({ 'b.parquet': 20, 'day=2/c.parquet': 10 });
      await s3!.put('lake', 'b.parquet', templates[2]!);
      const m = await manifestIs({ 'b.parquet': 30, 'day=2/c.parquet': 10 });
      expect(m.totalRows).toBe(40);
      expect(w.status().errors).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

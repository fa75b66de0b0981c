// Listing reports progress (issue 12, CLI: "a count during listing"): the local listing runs in
// steps, the engine emits progress events with the files found so far (filesDone, filesTotal 0)
// and lets the event loop run between steps, so a listing can also be cancelled.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import type { RefreshJobInfo } from '../src/index.js';
import { LocalStorage } from '../src/storage/local.js';
import { PlainProgress, renderLine } from '../src/cli/progress.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir } from './helpers/tmp.js';

/** `n` copies of one small parquet file, 100 to a folder. */
function lake(n: number): string {
  const dir = tempDir();
  const one = path.join(dir, 'one.bin');
  writeSyntheticParquet(one, encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], 5)));
  const bytes = fs.readFileSync(one);
  fs.rmSync(one);
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, `p${i}.parquet`), bytes);
  }
  return dir;
}

describe('listing progress', () => {
  it('emits the count of files found while listing, before scanning starts', async () => {
    const n = 3000;
    const dir = lake(n);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: dir, externalSpec: { format: 'parquet' } });
    const seen: RefreshJobInfo[] = [];
    engine.on('progress', (e) => seen.push(e.job));
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info).toMatchObject({ state: 'RefreshCompleted', filesTotal: n });
    const firstScan = seen.findIndex((j) => j.filesTotal === n);
    const listing = seen.slice(0, firstScan).filter((j) => j.filesTotal === 0 && j.filesDone > 0);
    expect(listing.length).toBeGreaterThan(0);
    for (const j of listing) expect(j.filesDone).toBeLessThanOrEqual(n);
    // Counts only grow, and the scan's counter starts again from 0.
    expect(listing.map((j) => j.filesDone)).toEqual([...listing.map((j) => j.filesDone)].sort((a, b) => a - b));
    expect(seen[firstScan]!.filesDone).toBe(0);
    await engine.close();
  });

  it('a listing can be cancelled between its steps', async () => {
    const dir = lake(3000);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: dir, externalSpec: { format: 'parquet' } });
    const ac = new AbortController();
    let cancelledAt = -1;
    engine.on('progress', (e) => {
      if (cancelledAt < 0 && e.job.filesTotal === 0 && e.job.filesDone > 0) {
        cancelledAt = e.job.filesDone;
        ac.abort();
      }
    });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c', signal: ac.signal })).jobId);
    expect(cancelledAt).toBeGreaterThan(0);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'CANCELLED' });
    await engine.close();
  });

  it('listSteps yields growing counts and returns what listSync returns', () => {
    const dir = lake(1200);
    const s = new LocalStorage(dir);
    const steps = s.listSteps('', undefined, true);
    const counts: number[] = [];
    let r = steps.next();
    for (; !r.done; r = steps.next()) counts.push(r.value);
    expect(counts.length).toBeGreaterThan(4);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(1200);
    expect(r.value).toEqual(s.listSync('', undefined, true));
    expect(r.value.map((f) => f.path)).toEqual(r.value.map((f) => f.path).sort());
  });

  it('the CLI shows the count: on the bar and in plain lines', () => {
    const base: RefreshJobInfo = {
      jobId: '1', collectionName: 'c', dbName: 'default', state: 'RefreshInProgress', progress: 0, reason: '', errorCode: '',
      externalSource: '/x', externalSpec: { format: 'parquet' }, startTime: Date.now(), endTime: 0, filesTotal: 0,
      filesDone: 0, version: 0, committed: false, skipped: [], warnings: [],
    };
    const line = renderLine({ ...base, filesDone: 1234 }, 'db.c', 80, { start: Date.now(), eta: () => undefined }, false).text;
    expect(line).toMatch(/^db\.c listing .* 1234 files found 0\.\ds$/);
    expect(renderLine(base, 'db.c', 80, { start: Date.now(), eta: () => undefined }, false).text).not.toContain('found');
    const out = new PassThrough();
    const plain = new PlainProgress(out, 'db.c');
    plain.update(base);
    (plain as unknown as { lastLine: number }).lastLine = 0; // as if 2 s had passed
    plain.update({ ...base, filesDone: 5000 });
    expect(String(out.read())).toBe('db.c: listing files\ndb.c: listing: 5000 files found\n');
  });
});

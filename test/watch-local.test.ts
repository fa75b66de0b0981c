// Watching a real directory of parquet files, with native events and with polling: every kind of change
// ends in a manifest that matches the directory.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import type { WatchHandle } from '../src/watch/watch.js';
import { changeFilter } from '../src/watch/filter.js';
import { parquetScanner } from '../scanners/index.js';
import { withDuckDB } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

/** Parquet files of 100, 200 and 300 rows, written once by DuckDB and copied where needed. */
const templates: Buffer[] = [];
beforeAll(async () => {
  const dir = tempDir();
  await withDuckDB(async (con) => {
    for (const rows of [100, 200, 300]) {
      const f = path.join(dir, `${rows}.parquet`);
      await con.run(`COPY (SELECT i AS id, 'n' || i AS name FROM range(${rows}) t(i)) TO '${f}' (FORMAT parquet)`);
      templates.push(fs.readFileSync(f));
    }
  });
});
const ROWS = [100, 200, 300];

describe.each(['parcel', 'poll'] as const)('watching a local directory (%s)', (mechanism) => {
  it('follows add, delete, rewrite in place, a new subdirectory and an atomic rename', async () => {
    const lake = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    const root = path.join(lake, 'meta'); // lakemap's own root inside the source: its commits must not count as changes
    const engine = new RefreshEngine({ root });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'c' }, { mechanism, debounceMs: 100, pollIntervalMs: 100, fullPassEvery: 2 });
    try {
      await w.ready;
      expect(w.status().mechanism).toBe(mechanism);
      const manifestIs = (files: Record<string, number>) =>
        waitFor(`manifest ${JSON.stringify(files)}`, async () => {
          const m = await engine.getManifest({ collectionName: 'c' });
          const got = Object.fromEntries(m.files.map((f) => [f.path, f.rows]));
          return JSON.stringify(got) === JSON.stringify(files) && m;
        });

      await manifestIs({ 'a.parquet': 100 }); // the first refresh, at start
      fs.writeFileSync(path.join(lake, 'b.parquet'), templates[1]!);
      await manifestIs({ 'a.parquet': 100, 'b.parquet': 200 });
      fs.rmSync(path.join(lake, 'a.parquet'));
      await manifestIs({ 'b.parquet': 200 });
      fs.writeFileSync(path.join(lake, 'b.parquet'), templates[2]!); // truncate and rewrite, same inode
      await manifestIs({ 'b.parquet': 300 });
      fs.mkdirSync(path.join(lake, 'day=2')); // a new partition: empty first, then filled
      fs.writeFileSync(path.join(lake, 'day=2', 'c.parquet'), templates[0]!);
      await manifestIs({ 'b.parquet': 300, 'day=2/c.parquet': 100 });
      const tmp = path.join(lake, 'day=2', '.d.parquet.inprogress');
      fs.writeFileSync(tmp, templates[1]!);
      fs.renameSync(tmp, path.join(lake, 'day=2', 'd.parquet'));
      const m = await manifestIs({ 'b.parquet': 300, 'day=2/c.parquet': 100, 'day=2/d.parquet': 200 });
      expect(m.totalRows).toBe(ROWS[2]! + ROWS[0]! + ROWS[1]!);
      fs.rmSync(path.join(lake, 'day=2'), { recursive: true }); // a whole partition goes
      await manifestIs({ 'b.parquet': 300 });
      const st = w.status();
      expect(st.errors).toEqual([]);
      expect(st.lastJob?.state).toBe('RefreshCompleted');
      expect(st.lastEvent?.paths.some((p) => p.startsWith('meta'))).toBeFalsy();
    } finally {
      await w.close();
    }
    expect(w.status().state).toBe('closed');
  });
});

describe('watching a local directory: failures', () => {
  it('keeps the previous version when a refresh fails, reports it, and recovers once the file is fixed', async () => {
    const lake = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'c' }, { debounceMs: 50 });
    try {
      await w.ready;
      await waitFor('v1', async () => (await engine.listManifestVersions({ collectionName: 'c' })).length === 1);
      fs.writeFileSync(path.join(lake, 'bad.parquet'), 'not parquet at all');
      const failed = await waitFor('a failed refresh', () => w.status().errors.find((e) => e.code === 'CORRUPT_FILE'));
      expect(failed.message).toContain('bad.parquet');
      expect(w.status().consecutiveFailures).toBeGreaterThan(0);
      expect(w.status().state).toBe('watching');
      expect(await engine.listManifestVersions({ collectionName: 'c' })).toEqual([1]); // previous version intact
      fs.writeFileSync(path.join(lake, 'bad.parquet'), templates[1]!);
      await waitFor('recovery', async () => (await engine.getManifest({ collectionName: 'c' })).totalRows === 300);
      // The new version is visible a moment before the watch has seen its job end.
      await waitFor('the watch to count the success', () => w.status().consecutiveFailures === 0);
    } finally {
      await w.close();
    }
  });

  it('falls back to polling, saying why, when native events cannot start', async () => {
    const lake = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const { startChangeSource } = await import('../src/watch/choose.js');
    const src = await startChangeSource(
      {
        storage: { root: lake } as never,
        localRoot: fs.realpathSync(lake),
        filter: changeFilter(parquetScanner, { format: 'parquet' }),
        listPrefix: '',
        clock: { now: Date.now, setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
        pollIntervalMs: 50,
        fullPassEvery: 1,
        loadParcel: async () => ({
          subscribe: async () => { throw new Error('Error starting inotify watcher: No space left on device (ENOSPC)'); },
        }),
      },
      () => {},
      () => {},
    );
    try {
      expect(src.mechanism).toBe('poll');
      expect(src.reason).toMatch(/fell back to polling: .*ENOSPC.*max_user_watches/);
    } finally {
      await src.close();
    }
  });
});

describe('change filter', () => {
  it('passes data files and directories, drops hidden, temporary and lakemap-root paths', () => {
    const f = changeFilter(parquetScanner, { format: 'parquet' }, 'meta');
    expect(['a.parquet', 'day=1', 'day=1/x.parquet'].map(f.accepts)).toEqual([true, true, true]);
    expect(['.a.parquet', 'a.parquet.tmp', '_SUCCESS', 'x/.hidden/a.parquet', 'a.csv', 'meta', 'meta/default/c/manifests/v000001.json', 'a.parquet~'].map(f.accepts)).toEqual(
      [false, false, false, false, false, false, false, false],
    );
    const g = changeFilter(parquetScanner, { format: 'parquet', files: 'keep/*.parquet' });
    expect(['keep/a.parquet', 'other/a.parquet'].map(g.accepts)).toEqual([true, false]);
  });

  it('passes only commit files of lance and iceberg tables', () => {
    const lance = changeFilter({ kind: 'table', format: 'lance-table', snapshot: async () => { throw new Error(); } }, { format: 'lance-table' });
    expect(['_versions/3.manifest', '_versions/18446744073709551612.manifest', 'data/x.lance', '_deletions/1-2.arrow', '_transactions/3-x.txn'].map(lance.accepts)).toEqual([true, true, false, false, false]);
    expect(['', '_versions', 'data'].map(lance.descends)).toEqual([true, true, false]);
    const ice = changeFilter({ kind: 'table', format: 'iceberg-table', snapshot: async () => { throw new Error(); } }, { format: 'iceberg-table' });
    expect(['metadata/v3.metadata.json', 'metadata/00003-ab.metadata.json', 'metadata/version-hint.text', 'metadata/snap-1.avro', 'metadata/1-m0.avro', 'data/a.parquet'].map(ice.accepts)).toEqual([true, true, true, false, false, false]);
  });
});

describe('docs/watching.md example', () => {
  it('runs as written', async () => {
    const { keepCurrent } = await import('../docs/examples/watch-collection.js');
    const lake = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    const root = tempDir();
    await new RefreshEngine({ root }).createCollection({ collectionName: 'trips', externalSource: lake, externalSpec: { format: 'parquet' } });
    const lines: string[] = [];
    const watch = await keepCurrent(root, 'trips', (l) => lines.push(l));
    try {
      await waitFor('version 1', () => lines.includes('now at version 1'));
      fs.writeFileSync(path.join(lake, 'b.parquet'), templates[1]!);
      await waitFor('version 2', () => lines.includes('now at version 2'));
      expect(lines[0]).toMatch(/^watching with (parcel|poll): /);
    } finally {
      await watch.close();
    }
  });
});

describe('a collection another engine is refreshing', () => {
  it('is "try again later": deferred, no error, and the watch catches up once that refresh ends', async () => {
    const lake = tempDir();
    const root = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    // The other engine's refresh waits at a gate until the watch has deferred, so it surely holds the
    // collection when the watch tries (a fixed 1.5 s probe could end first on a loaded machine).
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const slow = { ...parquetScanner, workerModule: undefined, probe: async (f: Parameters<typeof parquetScanner.probe>[0], c: Parameters<typeof parquetScanner.probe>[1]) => {
      await gate;
      return parquetScanner.probe(f, c);
    } };
    const other = new RefreshEngine({ root, scanners: [slow] });
    const engine = new RefreshEngine({ root });
    await other.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const { jobId } = await other.refreshExternalCollection({ collectionName: 'c' });
    const w = engine.watch({ collectionName: 'c' }, { debounceMs: 20 });
    try {
      await w.ready;
      await waitFor('a deferred refresh', () => w.status().deferred > 0);
      expect(w.status()).toMatchObject({ errors: [], consecutiveFailures: 0, pending: true, state: 'watching' });
      fs.writeFileSync(path.join(lake, 'b.parquet'), templates[1]!); // a change the slow refresh may not see
      open();
      expect((await other.waitForRefresh(jobId)).state).toBe('RefreshCompleted');
      await waitFor('both files mapped', async () => (await engine.getManifest({ collectionName: 'c' })).totalRows === 300);
      expect(w.status().errors).toEqual([]);
    } finally {
      open();
      await w.close();
      await other.close();
    }
  });

  it('closing the engine closes its watches', async () => {
    const lake = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'c' }, { debounceMs: 20 });
    await w.ready;
    await engine.close();
    expect(w.status().state).toBe('closed');
  });
});

describe('two engines watching one collection', () => {
  it('never fail each other: the one that finds the collection busy tries again later', async () => {
    const lake = tempDir();
    const root = tempDir();
    fs.writeFileSync(path.join(lake, 'a.parquet'), templates[0]!);
    // Slow probes make the two engines' refreshes overlap, so one finds the collection locked. The first
    // probe of all also waits until that happened once: on a loaded machine one watch could otherwise
    // start so late that every refresh ran alone, and the deferral asserted below never came.
    let watches: WatchHandle[] = [];
    let overlapped: Promise<unknown> | undefined;
    const slow = { ...parquetScanner, workerModule: undefined, probe: async (f: Parameters<typeof parquetScanner.probe>[0], c: Parameters<typeof parquetScanner.probe>[1]) => {
      await (overlapped ??= waitFor('one watch to find the collection busy', () => watches.some((w) => w.status().deferred > 0)));
      await new Promise((r) => setTimeout(r, 150));
      return parquetScanner.probe(f, c);
    } };
    const e1 = new RefreshEngine({ root, scanners: [slow] });
    const e2 = new RefreshEngine({ root, scanners: [slow] });
    await e1.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    watches = [e1, e2].map((e, i) => e.watch({ collectionName: 'c' }, { debounceMs: 20, mechanism: i === 0 ? 'parcel' : 'poll', pollIntervalMs: 50 }));
    const lockedOut: string[] = [];
    for (const w of watches) w.on('refreshend', (e) => { if (e.job?.errorCode === 'REFRESH_IN_PROGRESS') lockedOut.push(e.jobId); });
    try {
      await Promise.all(watches.map((w) => w.ready));
      for (let i = 0; i < 8; i++) {
        fs.writeFileSync(path.join(lake, `f${i}.parquet`), templates[i % 3]!);
        await new Promise((r) => setTimeout(r, 30));
      }
      const want = 100 + [0, 1, 2, 3, 4, 5, 6, 7].reduce((n, i) => n + ROWS[i % 3]!, 0);
      await waitFor('all files mapped', async () => (await e2.getManifest({ collectionName: 'c' })).totalRows === want);
      await waitFor('both idle', () => watches.every((w) => !w.status().refreshing && !w.status().pending));
      for (const w of watches) expect(w.status().errors).toEqual([]);
      // Whichever found the collection busy deferred: no error on either side, and the manifest ends complete.
      expect(lockedOut).toEqual([]); // refused at the call now, so no job of theirs failed on the lock
      expect(watches.some((w) => w.status().deferred > 0)).toBe(true);
      expect((await e1.getManifest({ collectionName: 'c' })).totalRows).toBe(want);
    } finally {
      await Promise.all(watches.map((w) => w.close()));
    }
  });
});

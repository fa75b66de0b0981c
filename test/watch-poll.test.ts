// The local poller's cost model (directories first, files only where needed, full passes less often)
// and mount detection from /proc/self/mountinfo.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalPollSource } from '../src/watch/poll-local.js';
import { changeFilter } from '../src/watch/filter.js';
import { isRemoteFs, mountOf, parseMountInfo } from '../src/storage/mounts.js';
import { startChangeSource } from '../src/watch/choose.js';
import { parquetScanner } from '../scanners/index.js';
import { FakeClock, freezePerformanceNow } from './helpers/fake-clock.js';
import { tempDir } from './helpers/tmp.js';

const bump = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);

describe('local poller', () => {
  it('sees adds, deletes and renames from directory stats alone, and rewrites in place on full passes', async () => {
    const dir = tempDir();
    for (const d of ['p1', 'p2', 'p2/deep']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'p1/a.parquet'), 'aaaa');
    fs.writeFileSync(path.join(dir, 'p2/deep/b.parquet'), 'bbbb');
    const poller = new LocalPollSource(dir, changeFilter(parquetScanner, { format: 'parquet' }), 'test', { clock: new FakeClock(), intervalMs: 1000, fullPassEvery: 10 });
    expect(await poller.pass()).toEqual([]);
    expect(poller.directoryCount).toBe(4);

    fs.writeFileSync(path.join(dir, 'p2/deep/c.parquet'), 'cc');
    expect(await poller.pass()).toEqual(['p2/deep']);
    fs.renameSync(path.join(dir, 'p1/a.parquet'), path.join(dir, 'p2/a.parquet'));
    expect((await poller.pass()).sort()).toEqual(['p1', 'p2']);
    fs.mkdirSync(path.join(dir, 'p3/x'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'p3/x/d.parquet'), 'd');
    expect(await poller.pass()).toEqual(['p3']);
    expect(poller.directoryCount).toBe(6);
    fs.rmSync(path.join(dir, 'p3'), { recursive: true });
    expect(await poller.pass()).toEqual(['p3']);
    expect(poller.directoryCount).toBe(4);

    // A rewrite in place changes no directory: a quick pass cannot see it, the full pass does. (Directories
    // changed long ago: one changed in the last seconds is read on every pass, see the next test.)
    for (const d of ['', 'p1', 'p2', 'p2/deep']) bump(path.join(dir, d), 1_000_000_000);
    expect(await poller.pass(false)).toEqual([]);
    fs.writeFileSync(path.join(dir, 'p2/deep/b.parquet'), 'BBBBBB');
    bump(path.join(dir, 'p2/deep/b.parquet'), 2_000_000_000);
    expect(await poller.pass(false)).toEqual([]);
    expect(await poller.pass(true)).toEqual(['p2/deep']);
    // Files that do not matter change nothing.
    fs.writeFileSync(path.join(dir, 'p2/.b.parquet.tmp'), 'x');
    fs.writeFileSync(path.join(dir, 'p2/readme.txt'), 'x');
    expect(await poller.pass(true)).toEqual([]);
  });

  it('reads a recently changed directory again even when its mtime did not move (a coarse timestamp clock)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.parquet'), 'aaaa');
    // A whole-millisecond mtime, so that utimes can put exactly the same one back.
    const tick = new Date(Math.floor(Date.now()));
    fs.utimesSync(dir, tick, tick);
    const poller = new LocalPollSource(dir, changeFilter(parquetScanner, { format: 'parquet' }), 'test', { clock: new FakeClock(), intervalMs: 1000, fullPassEvery: 10 });
    expect(await poller.pass()).toEqual([]);
    // Added within the same tick of a coarse clock (Linux before 6.13 stamps with the jiffy): the
    // directory's mtime stays what the last pass saw.
    fs.writeFileSync(path.join(dir, 'b.parquet'), 'bb');
    fs.utimesSync(dir, tick, tick);
    expect(await poller.pass(false)).toEqual(['']);
    // Once its mtime is old, an unchanged stamp means an unchanged directory again (the cost model holds).
    bump(dir, 1_000_000_000);
    expect(await poller.pass(false)).toEqual([]);
    fs.writeFileSync(path.join(dir, 'c.parquet'), 'c');
    bump(dir, 1_000_000_000);
    expect(await poller.pass(false)).toEqual([]);
    expect(await poller.pass(true)).toEqual(['']);
  });

  it('reports the loss of the watched directory as an error and a change', async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const thaw = freezePerformanceNow(); // advance(1000) is the next poll only if the first pass took no time
    try {
      const errors: string[] = [];
      const changes: string[][] = [];
      const poller = new LocalPollSource(dir, changeFilter(parquetScanner, { format: 'parquet' }), 'test', { clock, intervalMs: 1000, fullPassEvery: 10 });
      await poller.start((p) => changes.push(p), (e) => errors.push(e.message));
      fs.rmSync(dir, { recursive: true });
      await clock.advance(1000);
      expect(errors[0]).toContain('is gone');
      expect(changes).toEqual([[]]);
      await poller.close();
    } finally {
      thaw();
    }
  });
});

describe('mount detection', () => {
  const info = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 0:40 / /mnt/s3 rw,nosuid,nodev,relatime shared:20 - fuse.s3fs s3fs rw,user_id=0,group_id=0',
    '41 22 0:41 / /mnt/with\\040space rw - nfs4 server:/export rw,vers=4.2',
    '42 22 0:42 / /mnt/gcs rw - fuse.gcsfuse bucket rw',
    '43 22 0:43 / /mnt/s3/inner rw - tmpfs tmpfs rw',
  ].join('\n');

  it('finds the innermost mount of a path and its type', () => {
    expect(parseMountInfo(info)).toHaveLength(5);
    expect(mountOf('/mnt/s3/lake/day=1', info)).toMatchObject({ mountPoint: '/mnt/s3', fsType: 'fuse.s3fs', source: 's3fs' });
    expect(mountOf('/mnt/s3/inner/x', info)?.fsType).toBe('tmpfs');
    expect(mountOf('/mnt/s3x', info)?.fsType).toBe('ext4');
    expect(mountOf('/mnt/with space/d', info)).toMatchObject({ fsType: 'nfs4', source: 'server:/export' });
    expect(['fuse.s3fs', 'fuse.mountpoint-s3', 'fuse.gcsfuse', 'fuse.blobfuse', 'nfs', 'nfs4', 'cifs', 'smb3'].every(isRemoteFs)).toBe(true);
    expect(['ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'fuseblk'].some(isRemoteFs)).toBe(false);
  });

  it('polls every file on a network mount, even when native events are available', async () => {
    const dir = tempDir();
    const real = fs.realpathSync(dir);
    const fake = `22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:40 / ${real} rw - nfs4 server:/lake rw`;
    const src = await startChangeSource(
      { storage: { root: real } as never, localRoot: real, filter: changeFilter(parquetScanner, { format: 'parquet' }), listPrefix: '', clock: new FakeClock(), pollIntervalMs: 1000, fullPassEvery: 10, mountInfo: fake },
      () => {},
      () => {},
    );
    expect(src.mechanism).toBe('poll');
    expect(src.reason).toContain('nfs4');
    await src.close();
  });
});

describe('poll interval', () => {
  it('spreads the cost of a full pass over the passes it stands for', async () => {
    const { PollLoop } = await import('../src/watch/poll-loop.js');
    const clock = new FakeClock();
    let passes = 0;
    // Each pass "takes" time on the clock the loop measures passes with (performance.now), moved by the
    // pass itself: a full pass (every 10th, and the first) 300 ms, the others none. Real waiting overshot
    // 300 ms by any amount on a loaded machine, and past 500 ms the interval is no longer the floor.
    let t = 0;
    const perf = vi.spyOn(performance, 'now').mockImplementation(() => t);
    try {
      const loop = new PollLoop(clock, 1000, async () => {
        const full = passes++ % 10 === 0;
        if (full) {
          t += 300;
          return 10;
        }
        return 1;
      });
      await loop.start();
      expect(loop.lastPassMs).toBe(300);
      // 20 × 300 ms would be 6 s; spread over 10 passes it is 600 ms, under the 1 s floor.
      expect(loop.currentIntervalMs).toBe(1000);
      await loop.stop();
    } finally {
      perf.mockRestore();
    }
  });
});

describe('parcel source', () => {
  it('filters events, reports watcher errors as a hint, and never rejects on close when unsubscribe() does', async () => {
    const { ParcelSource } = await import('../src/watch/parcel.js');
    let deliver: (err: Error | null, events: { path: string; type: 'create' | 'update' | 'delete' }[]) => void = () => {};
    let ignored: string[] = [];
    const fakeParcel = {
      subscribe: async (_dir: string, fn: typeof deliver, opts?: { ignore?: string[] }) => {
        deliver = fn;
        ignored = opts?.ignore ?? [];
        return { unsubscribe: () => Promise.reject(new Error('Unable to remove watcher')) }; // parcel-bundler/watcher#129
      },
    };
    const root = '/lake';
    const src = new ParcelSource(root, changeFilter(parquetScanner, { format: 'parquet' }), 'test', ['meta'], async () => fakeParcel);
    const changes: string[][] = [];
    const errors: string[] = [];
    await src.start((p) => changes.push(p), (e) => errors.push(e.message));
    expect(ignored).toEqual(['/lake/meta']);
    deliver(null, [{ path: '/lake/a.parquet', type: 'create' }, { path: '/lake/.a.parquet.tmp', type: 'create' }, { path: '/lake/notes.txt', type: 'update' }]);
    deliver(null, [{ path: '/lake/x.csv', type: 'create' }]);
    deliver(new Error('Events were dropped by the FSEvents client'), []);
    expect(changes).toEqual([['a.parquet'], []]);
    expect(errors).toEqual(['Events were dropped by the FSEvents client']);
    await expect(src.close()).resolves.toBeUndefined();
  });
});

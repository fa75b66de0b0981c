// The asynchronous listing used on high-latency mounts: the same files, order and containment rules
// as LocalStorage.listSync, with many calls in flight (shown with a slowed file system), cancellable.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.js';
import { listTreeAsync, nodeListFs, type ListFs } from '../src/storage/async-list.js';
import { LakemapError } from '../src/errors.js';
import { tempDir, writeFile } from './helpers/tmp.js';

/** A tree with nested folders, hidden names, links inside the root (file, folder, loop), a dangling link and a name that is not UTF-8. */
function tree(): string {
  const dir = fs.realpathSync(tempDir());
  for (let d = 0; d < 6; d++) for (let f = 0; f < 7; f++) writeFile(path.join(dir, `d${d}`, `sub${f % 2}`, `f${f}.bin`), 'x'.repeat(d * 10 + f));
  writeFile(path.join(dir, 'top.bin'), 'top');
  writeFile(path.join(dir, '.hidden', 'h.bin'), 'h');
  writeFile(path.join(dir, 'd0', '_tmp.bin'), 't');
  fs.symlinkSync(path.join(dir, 'd1'), path.join(dir, 'link-to-d1'));
  fs.symlinkSync(path.join(dir, 'd2', 'sub0', 'f0.bin'), path.join(dir, 'd3', 'link.bin'));
  fs.symlinkSync(dir, path.join(dir, 'd4', 'loop'));
  fs.symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling.bin'));
  fs.writeFileSync(Buffer.concat([Buffer.from(dir), Buffer.from([0x2f, 0x62, 0x61, 0x64, 0xff, 0x2e, 0x62, 0x69, 0x6e])]), 'bad name'); // bad\xff.bin
  return dir;
}

const visible = (name: string): boolean => !name.startsWith('.') && !name.startsWith('_');

/** `nodeListFs` with each call delayed by `ms`, counting the calls in flight. */
function slowFs(ms: number): ListFs & { inFlight: number; maxInFlight: number; calls: number; completed: number } {
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      s.calls++;
      s.inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
      try {
        await new Promise((r) => setTimeout(r, ms));
        return await fn(...a);
      } finally {
        s.inFlight--;
        s.completed++;
      }
    };
  const s = {
    inFlight: 0,
    maxInFlight: 0,
    calls: 0,
    completed: 0,
    readdir: wrap(nodeListFs.readdir),
    stat: wrap(nodeListFs.stat),
    realpath: wrap(nodeListFs.realpath),
  };
  return s;
}

describe('listTreeAsync', () => {
  it('lists the same files, sizes, mtimes and order as the synchronous listing, with and without a filter or stats', async () => {
    const dir = tree();
    const local = new LocalStorage(dir);
    for (const [filter, withStats] of [[undefined, true], [visible, true], [visible, false], [(n: string, rel: string) => rel !== 'd2' && n !== 'sub1', true]] as const) {
      const syncSkips: string[] = [];
      const asyncSkips: string[] = [];
      const sync = local.listSync('', filter, withStats, (m) => syncSkips.push(m));
      const listed = await listTreeAsync(dir, '', { ...(filter ? { filter } : {}), withStats, onSkip: (m) => asyncSkips.push(m) });
      expect(listed).toEqual(sync);
      expect(asyncSkips).toEqual(syncSkips.sort());
    }
    const all = await listTreeAsync(dir, '', { filter: visible });
    expect(all.length).toBe(6 * 7 + 1 + 1 + 7); // the d1 files once more through link-to-d1; the loop and the dangling link skipped
    expect(all.map((f) => f.path)).toContain('link-to-d1/sub0/f0.bin');
    expect(all.find((f) => f.path === 'd3/link.bin')?.size).toBe(20);
    expect(all.some((f) => f.path.startsWith('d4/loop'))).toBe(false);
    // A sub directory, a missing one, and concurrency 1 give the synchronous answers too.
    expect(await listTreeAsync(dir, 'd5', { concurrency: 1 })).toEqual(local.listSync('d5'));
    expect(await listTreeAsync(dir, 'nothing-here')).toEqual([]);
  });

  it('refuses a symlink that leads outside the root, as the synchronous listing does', async () => {
    const dir = fs.realpathSync(tempDir());
    const outside = fs.realpathSync(tempDir());
    writeFile(path.join(outside, 'secret.bin'), 'secret');
    writeFile(path.join(dir, 'a', 'ok.bin'), 'ok');
    fs.symlinkSync(outside, path.join(dir, 'a', 'escape'));
    expect(() => new LocalStorage(dir).listSync('')).toThrow(/leads outside/);
    const err = await listTreeAsync(dir, '').catch((e: unknown) => e);
    expect(LakemapError.is(err) && err.code).toBe('PATH_ESCAPE');
    expect((err as Error).message).toMatch(/a\/escape leads outside/);
    // A file link that leads out, and a start directory that does.
    fs.rmSync(path.join(dir, 'a', 'escape'));
    fs.symlinkSync(path.join(outside, 'secret.bin'), path.join(dir, 'a', 'secret.bin'));
    await expect(listTreeAsync(dir, 'a')).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
    fs.rmSync(path.join(dir, 'a', 'secret.bin'));
    fs.symlinkSync(outside, path.join(dir, 'out'));
    await expect(listTreeAsync(dir, 'out', { filter: () => true })).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
    await expect(listTreeAsync(dir, '../x')).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
    // Filtered out, the link is never followed.
    expect((await listTreeAsync(dir, '', { filter: (n) => n !== 'out' })).map((f) => f.path)).toEqual(['a/ok.bin']);
  });

  it('keeps many calls in flight on a slow file system, never more than the limit', async () => {
    const dir = fs.realpathSync(tempDir());
    for (let d = 0; d < 8; d++) for (let f = 0; f < 25; f++) writeFile(path.join(dir, `d${d}`, `f${f}.bin`), 'x');
    const sync = new LocalStorage(dir).listSync('');
    const slow = slowFs(20);
    const listed = await listTreeAsync(dir, '', { fs: slow, concurrency: 64 });
    expect(listed).toEqual(sync);
    expect(slow.calls).toBe(1 + 8 + 200); // root, each folder, a stat per file
    expect(slow.maxInFlight).toBe(64); // the folders' readdirs and then their stats overlap

    const narrow = slowFs(5);
    expect(await listTreeAsync(dir, '', { fs: narrow, concurrency: 7 })).toEqual(sync);
    expect(narrow.maxInFlight).toBe(7);
  });

  it('is cancelled through the signal: fails with CANCELLED at once and starts no call after', async () => {
    const dir = fs.realpathSync(tempDir());
    for (let d = 0; d < 20; d++) for (let f = 0; f < 20; f++) writeFile(path.join(dir, `d${d}`, `f${f}.bin`), 'x');
    const slow = slowFs(30);
    const ctl = new AbortController();
    const listing = listTreeAsync(dir, '', { fs: slow, concurrency: 4, signal: ctl.signal });
    await new Promise((r) => setTimeout(r, 100));
    const callsAtAbort = slow.calls;
    const completedAtAbort = slow.completed;
    expect(slow.inFlight).toBe(4);
    ctl.abort();
    let completedAtRejection = -1;
    await expect(listing.finally(() => (completedAtRejection = slow.completed))).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(completedAtRejection).toBe(completedAtAbort); // it did not wait for any call in flight
    await new Promise((r) => setTimeout(r, 100));
    expect(slow.calls).toBe(callsAtAbort);
    expect(slow.calls).toBeLessThan(1 + 20 + 400);
    await expect(listTreeAsync(dir, '', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('fails with IO_ERROR naming the folder that cannot be read, and stops issuing calls', async () => {
    const dir = fs.realpathSync(tempDir());
    for (let d = 0; d < 4; d++) writeFile(path.join(dir, `d${d}`, 'f.bin'), 'x');
    const failing: ListFs = {
      ...nodeListFs,
      readdir: async (p) => {
        if (p.endsWith('d2')) throw Object.assign(new Error('EIO: i/o error, scandir'), { code: 'EIO' });
        return nodeListFs.readdir(p);
      },
    };
    await expect(listTreeAsync(dir, '', { fs: failing })).rejects.toMatchObject({ code: 'IO_ERROR', path: 'd2' });
  });
});

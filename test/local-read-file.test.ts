// LocalStorage.readFile opens, fstats and reads (no stat of the path first): what it refuses and
// with which code must be what the stat-first version gave — missing files, folders, FIFOs and
// dangling symlinks are NOT_FOUND (a FIFO without waiting for a writer), a symlink out of the root
// is PATH_ESCAPE, a file over the limit CORRUPT_FILE; a symlink inside the root is read through.
// readFile (synchronous calls, for local disks) and readFileAsync (thread pool, for high-latency
// mounts) must answer alike, message included.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.js';
import { tempDir } from './helpers/tmp.js';

const base = tempDir('lakemap-readfile-');
const root = path.join(base, 'root');
fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
fs.writeFileSync(path.join(root, 'a.bin'), Buffer.from('hello world'));
fs.writeFileSync(path.join(base, 'outside.bin'), 'secret');
fs.symlinkSync('a.bin', path.join(root, 'link.bin'));
fs.symlinkSync('../outside.bin', path.join(root, 'escape.bin'));
fs.symlinkSync('nothing-here.bin', path.join(root, 'dangling.bin'));
const fifo = spawnSync('mkfifo', [path.join(root, 'pipe')]).status === 0;
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

describe.each(['readFile', 'readFileAsync'] as const)('LocalStorage.%s', (method) => {
  const storage = new LocalStorage(root);
  const s = { readFile: (p: string, max?: number) => storage[method](p, max) };

  it('reads a file whole, and through a symlink inside the root', async () => {
    expect(Buffer.from(await s.readFile('a.bin')).toString()).toBe('hello world');
    expect(Buffer.from(await s.readFile('link.bin')).toString()).toBe('hello world');
    expect((await s.readFile('a.bin', 11)).length).toBe(11);
  });

  it('refuses what is not a readable file of the root, each with its code', async () => {
    expect(await codeOf(s.readFile('missing.bin'))).toBe('NOT_FOUND');
    expect(await codeOf(s.readFile('dir/missing.bin'))).toBe('NOT_FOUND');
    expect(await codeOf(s.readFile('a.bin/x'))).toBe('NOT_FOUND');
    expect(await codeOf(s.readFile('dir'))).toBe('NOT_FOUND');
    expect(await codeOf(s.readFile('dangling.bin'))).toBe('NOT_FOUND');
    expect(await codeOf(s.readFile('escape.bin'))).toBe('PATH_ESCAPE');
    expect(await codeOf(s.readFile('../outside.bin'))).toBe('PATH_ESCAPE');
    expect(await codeOf(s.readFile('a.bin', 10))).toBe('CORRUPT_FILE');
  });

  it.runIf(fifo)('refuses a FIFO without waiting for a writer', async () => {
    expect(await codeOf(s.readFile('pipe'))).toBe('NOT_FOUND');
  });
});

describe('LocalStorage.readFile and readFileAsync', () => {
  it('fail with the same code, message and path', async () => {
    const storage = new LocalStorage(root);
    const outcome = async (p: Promise<Uint8Array>): Promise<unknown> =>
      p.then(
        (b) => Buffer.from(b).toString(),
        (e: { code?: string; message?: string; path?: string }) => ({ code: e.code, message: e.message, path: e.path }),
      );
    const cases: [string, number?][] = [['a.bin'], ['link.bin'], ['missing.bin'], ['dir'], ['dangling.bin'], ['escape.bin'], ['../outside.bin'], ['a.bin', 10], ['a.bin/x']];
    if (fifo) cases.push(['pipe']);
    for (const [p, max] of cases) expect(await outcome(storage.readFile(p, max))).toEqual(await outcome(storage.readFileAsync(p, max)));
  });
});

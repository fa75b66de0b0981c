// `openStorage` on local paths: a path is local unless it *starts* with a scheme, so a folder whose path
// holds `s3://` further in (POSIX folds the `//`) is still read from disk, and no storage option is
// needed for a local path. From the directory-wide mutation sample (docs/testing.md): the regex anchor
// of `urlScheme` and the check for a plugged-in scheme survived.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage, openStorage } from 'lakemap';
import { tempDir } from './helpers/tmp.js';

describe('openStorage on a local path', () => {
  it('reads a folder whose path holds "s3://" past its start from disk', async () => {
    const base = tempDir();
    fs.mkdirSync(path.join(base, 's3:', 'lake'), { recursive: true });
    fs.writeFileSync(path.join(base, 's3:', 'lake', 'a.txt'), 'local bytes');
    const storage = await openStorage(`${base}/s3://lake`);
    expect(storage).toBeInstanceOf(LocalStorage);
    expect(Buffer.from(await storage.readFile('a.txt')).toString()).toBe('local bytes');
  });

  it('needs no options, and a storage option for other schemes leaves it local', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'b.txt'), 'b');
    for (const storage of [await openStorage(dir), await openStorage(dir, { storage: { mem: () => Promise.reject(new Error('not for a path')) } })]) {
      expect(storage).toBeInstanceOf(LocalStorage);
      expect(Buffer.from(await storage.readFile('b.txt')).toString()).toBe('b');
    }
  });
});

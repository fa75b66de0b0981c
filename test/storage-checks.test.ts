// Argument checks of the storage layer, on real files: a read range that is not a pair of non-negative
// integers, or runs past the end, is CORRUPT_FILE naming the file; an unknown key in a spec's
// `storage_options` is INVALID_SPEC listing the known ones (never the secret ones). From the
// directory-wide mutation sample (docs/testing.md): `checkRange`, the unknown-key check and the close
// in `readFile`'s `finally` survived.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage, RefreshEngine } from 'lakemap';
import { SECRET_OPTION_KEYS } from '../src/storage/options.js';
import { tempDir } from './helpers/tmp.js';

describe('LocalStorage.read ranges', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'ten.bin'), Buffer.from('0123456789'));
  const storage = new LocalStorage(dir);

  it('refuses a negative, fractional or non-finite offset or length, naming the file and the range', async () => {
    for (const [offset, length] of [
      [-1, 2],
      [0.5, 2],
      [Number.NaN, 1],
      [0, -1],
      [0, 1.5],
      [0, Number.POSITIVE_INFINITY],
    ] as const) {
      await expect(storage.read('ten.bin', offset, length), `${offset}, ${length}`).rejects.toMatchObject({
        code: 'CORRUPT_FILE',
        path: 'ten.bin',
        message: expect.stringContaining(`invalid read range (offset ${offset}, length ${length})`),
      });
    }
  });

  it('reads zero bytes and up to the end; one byte past the end is refused', async () => {
    expect((await storage.read('ten.bin', 0, 0)).length).toBe(0);
    expect((await storage.read('ten.bin', 10, 0)).length).toBe(0);
    expect(Buffer.from(await storage.read('ten.bin', 8, 2)).toString()).toBe('89');
    await expect(storage.read('ten.bin', 9, 2)).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringContaining('a read of 2 bytes at offset 9 runs past the end of the 10-byte file'),
    });
  });
});

describe('LocalStorage.readFile', () => {
  it('closes its file descriptor after each read, and after a refused one', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'small.bin'), Buffer.alloc(100, 7));
    const storage = new LocalStorage(dir);
    const open = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 200; i++) {
      expect((await storage.readFile('small.bin')).length).toBe(100);
      await expect(storage.readFile('small.bin', 10)).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
    }
    // 400 leaked descriptors would show; a few opened meanwhile by the runner would not fail this.
    expect(open() - before).toBeLessThan(20);
  });
});

describe('storage_options in a spec', () => {
  it('an unknown key is INVALID_SPEC naming it and the known keys, secrets left out', async () => {
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    const source = tempDir();
    const e = await engine
      .createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'parquet', storage_options: { regoin: 'eu-west-1' } } })
      .then(() => undefined, (x: unknown) => x as { code: string; message: string });
    expect(e?.code).toBe('INVALID_SPEC');
    const m = /^storage_options\.regoin is not a storage option; known: (.+)$/.exec(e!.message);
    expect(m, e?.message).not.toBeNull();
    const known = m![1]!.split(', ');
    expect(known).toEqual(expect.arrayContaining(['region', 'concurrency', 'endpoint']));
    for (const secret of SECRET_OPTION_KEYS) expect(known).not.toContain(secret);
    // Known, non-secret keys are taken.
    await engine.createCollection({ collectionName: 'd', externalSource: source, externalSpec: { format: 'parquet', storage_options: { region: 'eu-west-1' } } });
  });
});

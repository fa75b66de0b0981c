// Opening listed files relative to their directory's descriptor (issue 10, full-refresh speed): the
// directory is checked once, files are opened under it with O_NOFOLLOW. Containment must hold as it
// did with a readlink per file: a parent directory swapped for a link to outside is refused, a name
// that is a link inside the source is still read, and no descriptor is left open.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.js';
import { RefreshEngine } from '../src/index.js';
import type { RefreshJobEvent } from '../src/index.js';
import { T, encodeFooter, footerForSchema, writeSyntheticParquet } from '../fixtures/parquet/synthetic-footer.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const linux = process.platform === 'linux' && fs.existsSync(`/proc/${process.pid}/fd`);
const openFds = (): number => fs.readdirSync(`/proc/${process.pid}/fd`).length;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function pq(file: string, rows: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeSyntheticParquet(file, encodeFooter(footerForSchema([{ name: 'schema', numChildren: 1 }, { name: 'id', type: T.I64, repetition: 0 }], rows)));
}

describe.skipIf(!linux)('LocalStorage.readTailSync through a directory descriptor (needs /proc/<pid>/fd: Linux only)', () => {
  it('reads the tails of files in several directories and closes the directory when the event loop turns', async () => {
    const root = tempDir();
    for (const d of ['a', 'b', 'b/c']) for (let i = 0; i < 3; i++) writeFile(path.join(root, d, `f${i}`), `${d}/${i}:` + 'x'.repeat(i * 10));
    const s = new LocalStorage(root);
    const before = openFds();
    for (const d of ['a', 'b', 'b/c', 'a']) {
      for (let i = 0; i < 3; i++) {
        const body = `${d}/${i}:` + 'x'.repeat(i * 10);
        const t = s.readTailSync(`${d}/f${i}`, 4);
        expect(Buffer.from(t.tail).toString()).toBe(body.slice(-4));
        expect(t.size).toBe(body.length);
      }
    }
    expect(openFds()).toBe(before + 1); // the last directory, until the loop turns
    await turn();
    expect(openFds()).toBe(before);
  });

  it('refuses a parent directory that became a link to outside, and reads a name that links inside', async () => {
    const outside = tempDir();
    writeFile(path.join(outside, 'f'), 'secret');
    const root = tempDir();
    writeFile(path.join(root, 'd', 'f'), 'inside');
    fs.symlinkSync(path.join(root, 'd', 'f'), path.join(root, 'link'));
    const s = new LocalStorage(root);
    expect(Buffer.from(s.readTailSync('d/f', 100).tail).toString()).toBe('inside');
    expect(Buffer.from(s.readTailSync('link', 100).tail).toString()).toBe('inside');
    await turn();
    fs.rmSync(path.join(root, 'd'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'd'));
    expect(() => s.readTailSync('d/f', 100)).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(() => s.readTailSync('d/missing', 100)).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
    expect(() => s.readTailSync('gone/f', 100)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await turn();
    fs.rmSync(path.join(root, 'd'));
    fs.mkdirSync(path.join(root, 'd'));
    expect(() => s.readTailSync('d/f', 100)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    fs.symlinkSync(path.join(outside, 'f'), path.join(root, 'd', 'f'));
    expect(() => s.readTailSync('d/f', 100)).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }));
  });

  it('fails a refresh whose parent directory is swapped for a link to outside between listing and probing', async () => {
    const outside = tempDir();
    pq(path.join(outside, 'a.parquet'), 99);
    const lake = tempDir();
    pq(path.join(lake, 'p', 'a.parquet'), 10);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
    let swapped = false;
    engine.on('progress', (e: RefreshJobEvent) => {
      if (swapped || e.job.filesTotal !== 1) return;
      swapped = true;
      fs.renameSync(path.join(lake, 'p'), path.join(lake, 'q'));
      fs.symlinkSync(outside, path.join(lake, 'p'));
    });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(swapped).toBe(true);
    expect(info).toMatchObject({ state: 'RefreshFailed', errorCode: 'PATH_ESCAPE' });
    await engine.close();
  });
});

// Stats of listed files taken without fs.Stats (storage/fast-stat.ts): the same size and mtime as
// fs.statSync to the bit, for real files with sub-millisecond mtimes, through links; the same errors;
// and fs.statSync alone, with no warning, where the fast way would print one (--pending-deprecation).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { statSizeMtime, statWay } from '../src/storage/fast-stat.js';
import { LocalStorage } from '../src/storage/local.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('stats of listed files', () => {
  it('give fs.statSync size and mtimeMs exactly, for 200 files with sub-millisecond mtimes', () => {
    const dir = tempDir('lakemap-fast-stat-');
    const files: string[] = [];
    for (let i = 0; i < 200; i++) {
      const f = path.join(dir, `f${i}.bin`);
      fs.writeFileSync(f, Buffer.alloc(i * 37));
      // Seconds with a fraction finer than a millisecond, as file systems with nanosecond times hold them.
      const t = 1.7e9 + i * 1234.567891 + (i % 7) * 1e-7;
      fs.utimesSync(f, t, t);
      files.push(f);
    }
    fs.symlinkSync(files[3]!, path.join(dir, 'link.bin'));
    for (const f of [...files, path.join(dir, 'link.bin')]) {
      const st = fs.statSync(f);
      expect(statSizeMtime(f)).toEqual({ size: st.size, mtimeMs: st.mtimeMs });
    }
    // On the Node versions this package supports, the fast way passed its check against fs.statSync.
    expect(statWay()).toBe('binding');
    const storage = new LocalStorage(dir);
    expect(storage.statListedSync('f9.bin')).toEqual({ size: 9 * 37, mtimeMs: fs.statSync(files[9]!).mtimeMs });
    expect(storage.listSync('', undefined, true).find((f) => f.path === 'f199.bin')).toMatchObject({ size: 199 * 37, mtimeMs: fs.statSync(files[199]!).mtimeMs });
  });

  it('fail as fs.statSync does: a missing file is ENOENT, and a listed file gone is IO_ERROR naming it', () => {
    const dir = tempDir('lakemap-fast-stat-');
    const missing = path.join(dir, 'gone.parquet');
    let expected: unknown;
    try {
      fs.statSync(missing);
    } catch (e) {
      expected = e;
    }
    expect(() => statSizeMtime(missing)).toThrow(expected as Error);
    expect(() => new LocalStorage(dir).statListedSync('gone.parquet')).toThrow(expect.objectContaining({ code: 'IO_ERROR', path: 'gone.parquet' }));
  });

  it('use fs.statSync alone, printing no warning, under --pending-deprecation', () => {
    const mod = path.join(repo, 'dist', 'src', 'storage', 'fast-stat.js');
    if (!fs.existsSync(mod)) throw new Error(`${mod} is missing: run "npm run build" first (npm test does)`);
    const script = `import { statSizeMtime, statWay } from ${JSON.stringify(mod)}; statSizeMtime(${JSON.stringify(repo)}); statSizeMtime(${JSON.stringify(repo)}); console.log(statWay());`;
    const r = spawnSync(process.execPath, ['--pending-deprecation', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('fs');
  });
});

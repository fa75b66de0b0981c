// checkTablePaths resolves each folder once and lstats files: its answers must be exactly those of
// LocalStorage.statSync, path by path (the storage's own resolution is the oracle), links included.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LakemapError } from '../src/index.js';
import { LocalStorage } from '../src/storage/local.js';
import { checkTablePaths } from '../src/scan/table-paths.js';
import type { TableEntry } from '../src/index.js';
import type { SkippedFile } from '../src/types.js';
import { tempDir, writeFile } from './helpers/tmp.js';

function tree(): string {
  const outside = tempDir();
  writeFile(path.join(outside, 'secret.bin'), 'outside');
  const dir = tempDir();
  writeFile(path.join(dir, 'data', 'a.bin'), 'a');
  writeFile(path.join(dir, 'data', 'b.bin'), 'bb');
  writeFile(path.join(dir, 'data', 'deep', 'c.bin'), 'ccc');
  fs.mkdirSync(path.join(dir, 'data', 'folder.bin'));
  fs.symlinkSync(path.join(outside, 'secret.bin'), path.join(dir, 'data', 'out.bin'));
  fs.symlinkSync(path.join(dir, 'data', 'a.bin'), path.join(dir, 'data', 'in-link.bin'));
  fs.symlinkSync(outside, path.join(dir, 'linked-out'));
  fs.symlinkSync(path.join(dir, 'data', 'deep'), path.join(dir, 'linked-in'));
  fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'data', 'dangling.bin'));
  return dir;
}

// Each folder is met more than 8 times (the list is taken twice), so both the per-file `lstat` and the
// folder `readdir` paths answer every kind of name.
const once = [
  'data/a.bin', 'data/b.bin', './data//b.bin', 'data/deep/c.bin', 'data/deep/../a.bin', 'data/in-link.bin',
  'linked-in/c.bin', 'linked-in/c.bin', 'data/out.bin', 'linked-out/secret.bin', 'linked-out/secret.bin',
  'data/missing.bin', 'missing-dir/x.bin', 'missing-dir/y.bin', 'data/folder.bin', 'data/dangling.bin',
  'data', '.', 'data/%2e%2e/%2e%2e/x', '../x.bin', '/etc/passwd', 'a.bin',
  'data/deep/x1.bin', 'data/deep/x2.bin', 'data/deep/x3.bin', 'linked-in/x4.bin', 'linked-out/x5.bin', 'linked-out/x6.bin',
];
const paths = [...once, ...once];

/** checkTablePaths with skip_invalid over `list` answers each path as `LocalStorage.statSync` does. */
async function expectOracleAnswers(list: string[]): Promise<{ want: Map<number, unknown>; kept: TableEntry[] }> {
  const storage = new LocalStorage(tree());
  const entries = list.map((p, i): TableEntry => ({ path: p, sizeBytes: 1, fingerprint: `f${i}`, rows: 1, units: [{ rows: 1, byteSize: 1 }] }));
  const skipped: SkippedFile[] = [];
  const kept = await checkTablePaths(storage, 't', entries, true, (s) => skipped.push(s));
  const got = new Map<number, unknown>();
  let k = 0;
  let s = 0;
  for (let i = 0; i < list.length; i++) {
    if (kept[k] && kept[k]!.fingerprint === `f${i}`) got.set(i, { path: kept[k++]!.path });
    else got.set(i, { code: skipped[s++]!.code });
  }
  const want = new Map(list.map((p, i) => {
    const o = oracle(storage, p);
    return [i, 'path' in o ? { path: o.path } : { code: o.code }];
  }));
  expect(got).toEqual(want);
  return { want, kept };
}

function oracle(storage: LocalStorage, p: string): { path: string; size: number } | { code: string } {
  try {
    const st = storage.statSync(p);
    return st ? { path: st.path, size: st.size } : { code: 'NOT_FOUND' };
  } catch (e) {
    return { code: LakemapError.is(e) ? e.code : 'THROWN' };
  }
}

describe('checkTablePaths on local storage', () => {
  it('answers every path exactly as LocalStorage.statSync does, with skip_invalid', async () => {
    const { want, kept } = await expectOracleAnswers(paths);
    // the tree really exercises both answers and both refusals
    const codes = [...want.values()].map((v) => (v as { code?: string }).code);
    expect(codes).toContain('PATH_ESCAPE');
    expect(codes).toContain('NOT_FOUND');
    expect(kept.map((e) => e.path)).toEqual(expect.arrayContaining(['data/a.bin', 'data/b.bin', 'data/deep/c.bin', 'data/in-link.bin', 'linked-in/c.bin']));
  });

  // Plain paths are counted before the first is resolved: a folder met often enough is listed from
  // its first reference (here the odd names come first), one met rarely is lstat'ed name by name.
  it('answers as the storage whether a folder is listed from its first reference or never', async () => {
    const odd = ['data/dangling.bin', 'data/out.bin', 'data/folder.bin', 'data/missing.bin', 'data/in-link.bin', 'data/a.bin', 'data/b.bin', 'data/a.bin'];
    await expectOracleAnswers(odd); // 8 plain references to data/: listed at once
    await expectOracleAnswers(odd.slice(0, 7)); // 7: one lstat each
    await expectOracleAnswers([...odd, './data/a.bin', 'data//b.bin', 'data/%2e/a.bin']); // plain and not, mixed
  });

  it('without skip_invalid the first bad path fails the check with its code', async () => {
    const storage = new LocalStorage(tree());
    const entries = ['data/a.bin', 'linked-out/secret.bin'].map((p, i): TableEntry => ({ path: p, sizeBytes: 1, fingerprint: `f${i}`, rows: 1, units: [{ rows: 1, byteSize: 1 }] }));
    await expect(checkTablePaths(storage, 't', entries, false, () => {})).rejects.toMatchObject({ code: 'PATH_ESCAPE' });
  });
});

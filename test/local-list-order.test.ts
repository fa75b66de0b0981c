// The local listing comes out in path order (JS string order of the whole relative path) without a
// global sort: each folder's files and subfolders are sorted by name and walked merged, a folder
// sorting as its name followed by "/". Names here are chosen so that per-name order and path order
// differ ("a" vs "a-b" vs "a.b" vs "a0": '-' and '.' sort before '/', '0' after it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/storage/local.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const FILES = [
  'a/x.parquet',
  'a/b/y.parquet',
  'a-b',
  'a.b',
  'a0',
  'a/b-c/z',
  'a/b.c',
  'a/b/c/d',
  'A',
  'Z/q',
  'z',
  'é/1',
  'e',
  'ü',
  '日本/x',
  '😀',
  'b/',
];

describe('local listing order', () => {
  it('is the sorted order of the paths, with and without stats, through a symlinked folder too', () => {
    const dir = tempDir();
    for (const f of FILES) if (!f.endsWith('/')) writeFile(path.join(dir, f), 'x');
    fs.mkdirSync(path.join(dir, 'b'));
    fs.symlinkSync(path.join(dir, 'a', 'b'), path.join(dir, 'a-link')); // a folder reached through a link
    fs.symlinkSync(path.join(dir, 'a.b'), path.join(dir, 'a.link')); // a file reached through a link
    const s = new LocalStorage(dir);
    for (const withStats of [false, true]) {
      const listed = s.listSync('', undefined, withStats).map((f) => f.path);
      expect(listed).toEqual([...listed].sort());
      expect(new Set(listed)).toEqual(
        new Set([...FILES.filter((f) => !f.endsWith('/')), 'a-link/y.parquet', 'a-link/c/d', 'a.link']),
      );
    }
  });

  it('many folders and files in readdir (hash) order still list sorted, stats matching each file', () => {
    const dir = tempDir();
    const want: string[] = [];
    for (let d = 0; d < 30; d++) {
      for (let f = 0; f < 40; f++) {
        const rel = `p${(d * 7919) % 30}/f${(f * 31) % 40}${f % 3 === 0 ? '.x' : ''}`;
        writeFile(path.join(dir, rel), 'y'.repeat(f));
        want.push(rel);
      }
    }
    const listed = new LocalStorage(dir).listSync('', undefined, true);
    expect(listed.map((f) => f.path)).toEqual([...want].sort());
    for (const f of listed) expect(f.size).toBe(fs.statSync(path.join(dir, f.path)).size);
  });
});

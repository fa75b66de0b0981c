// A child process is killed (SIGKILL) at each step of a manifest commit; the collection must then load
// at the old or the new version, never torn, and the next refresh must succeed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { writeParquetFile } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');

// The child counts calls of one fs function made during the refresh and kills itself at the n-th,
// before the call (or, for writes, after writing half of the data).
const CHILD = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const [distUrl, root, fn, nth] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, keepVersions: 2 });
let calls = 0;
const orig = fs[fn];
fs[fn] = function (...args) {
  if (++calls === Number(nth)) {
    if (fn === 'writeFileSync' && typeof args[1] === 'string') orig.call(fs, args[0], args[1].slice(0, args[1].length >> 1));
    process.kill(process.pid, 'SIGKILL');
  }
  return orig.apply(fs, args);
};
syncBuiltinESMExports();
const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
const info = await engine.waitForRefresh(jobId);
fs[fn] = orig;
syncBuiltinESMExports();
console.log(JSON.stringify({ state: info.state, reason: info.reason, calls }));
`;

describe('crash during commit', () => {
  let lake: string;
  beforeAll(async () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    lake = tempDir();
    for (let i = 0; i < 3; i++) await writeParquetFile(path.join(lake, `p${i}.parquet`), { rows: 50, seed: i, columns: 'lake' });
  });

  // [fs function, n-th call, version a reader must see afterwards]
  const points: [string, number, number][] = [
    ['writeFileSync', 1, 2], // while taking the refresh lock: a stale lock is left behind
    ['writeFileSync', 2, 2], // half of the new version file written
    ['renameSync', 1, 2], // version file complete, not yet renamed into place
    ['writeFileSync', 3, 2], // half of the new pointer written
    ['renameSync', 2, 2], // pointer written, not yet flipped
    ['rmSync', 1, 3], // pointer flipped, old versions not yet pruned
  ];

  it.each(points)('killed at %s #%i: loads version %i, and the next refresh works', async (fn, nth, expected) => {
    const root = tempDir();
    const src = tempDir();
    for (const f of fs.readdirSync(lake)) fs.copyFileSync(path.join(lake, f), path.join(src, f));
    const engine = new RefreshEngine({ root, keepVersions: 2 });
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'parquet' } });
    for (let v = 1; v <= 2; v++) {
      fs.copyFileSync(path.join(lake, 'p0.parquet'), path.join(src, `extra${v}.parquet`));
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(info.version).toBe(v);
    }
    const before = await engine.getManifest({ collectionName: 'c' });
    fs.copyFileSync(path.join(lake, 'p1.parquet'), path.join(src, 'new.parquet'));

    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, `file://${dist}`, root, fn, String(nth)], { encoding: 'utf8', timeout: 30_000 });
    expect(child.signal, `child should have been killed; stdout ${child.stdout} stderr ${child.stderr}`).toBe('SIGKILL');

    const reader = new RefreshEngine({ root });
    const after = await reader.getManifest({ collectionName: 'c' });
    expect(after.version).toBe(expected);
    if (after.version === 2) expect(after.contentHash).toBe(before.contentHash);
    else expect(after.files.map((f) => f.path)).toContain('new.parquet');
    expect(after.totalRows).toBe(after.files.reduce((n, f) => n + f.rows, 0));
    for (const v of await reader.listManifestVersions({ collectionName: 'c' })) {
      expect((await reader.getManifest({ collectionName: 'c', version: v })).version).toBe(v);
    }

    fs.copyFileSync(path.join(lake, 'p2.parquet'), path.join(src, 'newer.parquet'));
    const next = await reader.waitForRefresh((await reader.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(next.state, next.reason).toBe('RefreshCompleted');
    const latest = await reader.getManifest({ collectionName: 'c' });
    expect(latest.version).toBe(after.version + 1);
    expect(latest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['new.parquet', 'newer.parquet']));
    const leftovers = fs.readdirSync(path.join(root, 'default', 'c', 'manifests')).filter((n) => n.startsWith('.tmp-'));
    expect(leftovers).toEqual([]);
  });
});

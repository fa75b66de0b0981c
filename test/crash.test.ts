// SIGKILL at every step of a commit. A child process refreshes a collection and kills itself at a point
// chosen by file system call, path and step (before or after the call, or half-way through a write);
// it records that it reached the point, so a point the code no longer passes fails the test instead of
// passing silently. Afterwards the collection must load at the old or the new version, never torn; the
// history must be byte-for-byte intact; the dead job must read as failed; and the next refresh must
// succeed with the next version number.
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

// argv: dist url, root, marker file, fs function, path regex, step (before | after | half).
const CHILD = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const [distUrl, root, marker, fn, pattern, step] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, keepVersions: 2, workers: 0 });
const re = new RegExp(pattern);
const orig = { ...fs };
const fdPath = new Map();
const die = (p) => { orig.writeFileSync(marker, fn + ' ' + step + ' ' + p); process.kill(process.pid, 'SIGKILL'); };
fs.openSync = function (p, ...rest) { const fd = orig.openSync(p, ...rest); fdPath.set(fd, String(p)); return fd; };
fs[fn] = function (...args) {
  const target = String(typeof args[0] === 'number' ? fdPath.get(args[0]) : fn === 'linkSync' || fn === 'renameSync' ? args[1] : args[0]);
  if (!re.test(target)) return orig[fn].apply(fs, args);
  if (step === 'before') die(target);
  if (step === 'half') { orig[fn].call(fs, args[0], String(args[1]).slice(0, String(args[1]).length >> 1)); die(target); }
  const out = orig[fn].apply(fs, args);
  die(target);
  return out;
};
syncBuiltinESMExports();
const { jobId } = await engine.refreshExternalCollection({ collectionName: 'c' });
const info = await engine.waitForRefresh(jobId);
console.log(JSON.stringify({ state: info.state, reason: info.reason }));
`;

// [fs function, path pattern, step, version current afterwards, job recorded before the kill]
const points: [string, string, string, number, boolean][] = [
  ['linkSync', '/refresh\\.lock$', 'before', 2, false], // about to take the lock
  ['linkSync', '/refresh\\.lock$', 'after', 2, false], // lock taken, job not yet recorded: a stale lock is left behind
  ['writeFileSync', '/chunks/\\.tmp-[0-9a-f]{32}\\.c\\.json-', 'half', 2, true], // half of a new chunk written
  ['linkSync', '/chunks/[0-9a-f]{32}\\.c\\.json$', 'after', 2, true], // a chunk in place, the version file not
  ['writeFileSync', '/manifests/\\.tmp-v000003\\.json-', 'half', 2, true], // half of the new version file written
  ['linkSync', '/v000003\\.json$', 'before', 2, true], // version file complete under its temporary name
  ['linkSync', '/v000003\\.json$', 'after', 2, true], // version file in place, CURRENT not flipped
  ['writeFileSync', '/\\.tmp-CURRENT-', 'half', 2, true], // half of the new CURRENT written
  ['renameSync', '/CURRENT$', 'before', 2, true], // CURRENT written, not yet flipped
  ['renameSync', '/CURRENT$', 'after', 3, true], // flipped
  ['rmSync', '/v000001\\.json$', 'before', 3, true], // flipped, old versions not yet pruned
  ['rmSync', '/refresh\\.lock$', 'before', 3, true], // committed, lock not yet released
];

describe('SIGKILL at every commit step', () => {
  let lake: string;
  beforeAll(async () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    lake = tempDir();
    for (let i = 0; i < 3; i++) await writeParquetFile(path.join(lake, `p${i}.parquet`), { rows: 50, seed: i, columns: 'lake' });
  });

  it.each(points)('killed at %s %s (%s): version %i is current, history intact, next refresh works', async (fn, pattern, step, expected, recorded) => {
    const root = tempDir();
    const src = tempDir();
    const marker = path.join(tempDir(), 'reached');
    for (const f of fs.readdirSync(lake)) fs.copyFileSync(path.join(lake, f), path.join(src, f));
    const engine = new RefreshEngine({ root, keepVersions: 2, workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: src, externalSpec: { format: 'parquet' } });
    for (let v = 1; v <= 2; v++) {
      fs.copyFileSync(path.join(lake, 'p0.parquet'), path.join(src, `extra${v}.parquet`));
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
      expect(info.version).toBe(v);
    }
    const manifests = path.join(root, 'default', 'c', 'manifests');
    const history = new Map(fs.readdirSync(manifests).map((n) => [n, fs.readFileSync(path.join(manifests, n))]));
    const before = await engine.getManifest({ collectionName: 'c' });
    fs.copyFileSync(path.join(lake, 'p1.parquet'), path.join(src, 'new.parquet'));

    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, `file://${dist}`, root, marker, fn, pattern, step], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.signal, `child should have been killed; stdout ${child.stdout} stderr ${child.stderr}`).toBe('SIGKILL');
    expect(fs.readFileSync(marker, 'utf8')).toMatch(new RegExp(`^${fn} ${step} .*${pattern.replace(/^\//, '')}`));

    const reader = new RefreshEngine({ root, keepVersions: 2, workers: 0 });
    const after = await reader.getManifest({ collectionName: 'c' });
    expect(after.version).toBe(expected);
    if (after.version === 2) expect(after.contentHash).toBe(before.contentHash);
    else expect(after.files.map((f) => f.path)).toContain('new.parquet');
    expect(after.totalRows).toBe(after.files.reduce((n, f) => n + f.rows, 0));
    for (const [name, bytes] of history) {
      if (fs.existsSync(path.join(manifests, name))) expect(fs.readFileSync(path.join(manifests, name)).equals(bytes), name).toBe(true);
    }
    // Nothing is visible before its chunks: a version file in place lists only chunks already linked.
    for (const name of fs.readdirSync(manifests).filter((n) => n === 'v000003.json')) {
      const listed = JSON.parse(fs.readFileSync(path.join(manifests, name), 'utf8')) as { chunks?: { id: string }[] };
      for (const c of listed.chunks ?? []) {
        for (const ext of ['i', 'c']) expect(fs.existsSync(path.join(path.dirname(manifests), 'chunks', `${c.id}.${ext}.json`)), `${name} lists ${c.id}`).toBe(true);
      }
    }
    // The killed job reads as failed from any engine, not as running forever.
    const jobs = reader.listRefreshExternalCollectionJobs({ collectionName: 'c' });
    expect(jobs).toHaveLength(recorded ? 3 : 2);
    if (recorded) expect(jobs.at(-1)).toMatchObject({ state: 'RefreshFailed', errorCode: 'PROCESS_ENDED' });

    fs.copyFileSync(path.join(lake, 'p2.parquet'), path.join(src, 'newer.parquet'));
    const next = await reader.waitForRefresh((await reader.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(next.state, next.reason).toBe('RefreshCompleted');
    const latest = await reader.getManifest({ collectionName: 'c' });
    expect(latest.version).toBe(after.version + 1);
    expect(latest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['new.parquet', 'newer.parquet']));
    expect(await reader.listManifestVersions({ collectionName: 'c' })).toEqual([latest.version - 1, latest.version]);
    const leftovers = [...fs.readdirSync(manifests), ...fs.readdirSync(path.dirname(manifests))].filter((n) => n.startsWith('.tmp-') || n === 'refresh.lock');
    expect(leftovers).toEqual([]);
  });
});

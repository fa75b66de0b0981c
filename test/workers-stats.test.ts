// Probe workers take a share of large local listings' stats (issue #10): with one worker (Node reporting 2 cores)
// refreshes of a 5,000-file lake after a full one (no change, then 2% of the
// files rewritten or touched, one removed, one added) find exactly what an engine without workers
// finds, and the worker really stat'ed (it posted stat batches).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');
const fakeCores = path.join(repo, 'test', 'helpers', 'fake-cores.mjs');

// Counts the stat batches (messages with sizes and mtimes) worker threads post; after each step of
// the lake's changes, refreshes and reports the change set and the manifest.
const CHILD = `
import wt from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
let statBatches = 0;
const Base = wt.Worker;
wt.Worker = class extends Base {
  constructor(...args) { super(...args); this.on('message', (m) => { if (m && m.values) statBatches++; }); }
};
syncBuiltinESMExports();
const [distUrl, lake, root, workers] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, ...(workers === 'default' ? {} : { workers: Number(workers) }) });
await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
const refresh = async () => {
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  const m = await engine.getManifest({ collectionName: 'c' });
  return { state: info.state, changes: info.changes, version: m.version, files: m.files, segments: m.segments };
};
const steps = [await refresh(), await refresh()];
const mark = JSON.parse(fs.readFileSync(path.join(lake, 'plan.json'), 'utf8'));
for (const [rel, kind] of mark) {
  const f = path.join(lake, rel);
  if (kind === 'touch') fs.utimesSync(f, new Date(2001, 1, 1), new Date(2001, 1, 1));
  else if (kind === 'rewrite') fs.copyFileSync(path.join(lake, 'd000', 'part-00001.parquet'), f);
  else if (kind === 'remove') fs.renameSync(f, f + '.gone');
  else fs.copyFileSync(path.join(lake, 'd000', 'part-00002.parquet'), f);
  // The same mtimes in both runs' lakes: fingerprints hold them.
  if (kind === 'rewrite' || kind === 'add') fs.utimesSync(f, new Date(2002, 2, 2), new Date(2002, 2, 2));
}
steps.push(await refresh());
for (const [rel, kind] of mark) {
  const f = path.join(lake, rel);
  if (kind === 'remove') fs.renameSync(f + '.gone', f);
  if (kind === 'add') fs.rmSync(f);
}
await engine.close();
console.log(JSON.stringify({ statBatches, steps }));
`;

function run(lake: string, workers: string) {
  const r = spawnSync(process.execPath, ['--import', fakeCores, '--input-type=module', '-e', CHILD, `file://${dist}`, lake, tempDir(), workers], {
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 28,
    env: { ...process.env, LAKEMAP_FAKE_CORES: '2' },
  });
  expect(r.signal, 'the refreshes did not finish').toBeNull();
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { statBatches: number; steps: { state: string; changes: unknown; version: number; files: unknown[]; segments: unknown[] }[] };
}

describe('probe workers stat listings', () => {
  let lake: string;
  let paths: string[];
  beforeAll(async () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    lake = tempDir();
    ({ paths } = await writeManyParquetFiles(lake, 5000));
    const plan: [string, string][] = [];
    paths.forEach((p, i) => {
      if (i % 100 === 7) plan.push([p, 'touch']);
      if (i % 100 === 61) plan.push([p, 'rewrite']);
    });
    plan.push([paths[4321]!, 'remove'], ['d013/extra.parquet', 'add']);
    fs.writeFileSync(path.join(lake, 'plan.json'), JSON.stringify(plan));
  }, 120_000);

  it('finds what the engine thread alone finds: no change, touched, rewritten, removed and added files', { timeout: 600_000 }, () => {
    // Two copies of the lake, so both engines see the same edits from the same state.
    const other = tempDir();
    fs.cpSync(lake, other, { recursive: true });
    // The same mtimes in both (a copy keeps them to the millisecond at best; fingerprints hold them whole).
    paths.forEach((p, i) => {
      const t = new Date(1_600_000_000_000 + i * 1000);
      for (const dir of [lake, other]) fs.utimesSync(path.join(dir, p), t, t);
    });
    const alone = run(lake, '0');
    const shared = run(other, '1');
    expect(alone.statBatches).toBe(0);
    expect(shared.statBatches).toBeGreaterThan(0);
    expect(shared.steps.map((s) => s.state)).toEqual(['RefreshCompleted', 'RefreshCompleted', 'RefreshCompleted']);
    expect(shared.steps.map((s) => s.version)).toEqual([1, 1, 2]);
    for (let i = 0; i < 3; i++) {
      expect(shared.steps[i]!.changes, `step ${i}`).toEqual(alone.steps[i]!.changes);
      expect(shared.steps[i]!.files, `step ${i}`).toEqual(alone.steps[i]!.files);
      expect(shared.steps[i]!.segments, `step ${i}`).toEqual(alone.steps[i]!.segments);
    }
  });
});

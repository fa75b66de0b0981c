// Probe workers: a refresh that probes in worker threads (from the built package) commits the same
// manifest as one that probes on the engine's thread alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');

// The child counts the batches worker threads post; a first refresh warms the workers up.
const CHILD = `
import wt from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
let batches = 0;
const Base = wt.Worker;
wt.Worker = class extends Base {
  constructor(...args) { super(...args); this.on('message', (m) => { if (m !== 'end') batches++; }); }
};
syncBuiltinESMExports();
const [distUrl, lake, root, workers] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, workers: Number(workers) });
const refresh = async (collectionName) => {
  await engine.createCollection({ collectionName, externalSource: lake, externalSpec: { format: 'parquet', skip_invalid: true } });
  return engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
};
await refresh('warm');
batches = 0;
const info = await refresh('c');
const m = await engine.getManifest({ collectionName: 'c' });
console.log(JSON.stringify({ batches, info, files: m.files, segments: m.segments, fileSchemas: m.fileSchemas, totalRows: m.totalRows }));
`;

function refreshIn(lake: string, workers: number) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, `file://${dist}`, lake, tempDir(), String(workers)], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('probe workers', () => {
  it('give the same manifest as the engine thread alone, skipped files included', async () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    const { rows } = await writeManyParquetFiles(lake, 3000);
    writeFile(path.join(lake, 'd007', 'broken.parquet'), 'PAR1 not really PAR1');
    const alone = refreshIn(lake, 0);
    const threaded = refreshIn(lake, 1);
    expect(alone.info.state).toBe('RefreshCompleted');
    expect(threaded.info.state).toBe('RefreshCompleted');
    expect(alone.batches).toBe(0);
    expect(threaded.batches).toBeGreaterThan(0);
    expect(threaded.totalRows).toBe(rows);
    expect(threaded.files).toEqual(alone.files);
    expect(threaded.segments).toEqual(alone.segments);
    expect(threaded.fileSchemas).toEqual(alone.fileSchemas);
    expect(threaded.info.skipped).toEqual(alone.info.skipped);
    expect(threaded.info.skipped.map((s: { path: string }) => s.path)).toEqual(['d007/broken.parquet']);
  });
});

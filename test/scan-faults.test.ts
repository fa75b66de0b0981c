// Faults on the scan path (issue 8 items 2, 3): a failing refresh never leaves a promise without a
// handler (the host process lives on), and reads in flight stay within the memory budget.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Field, Int32, Schema } from 'apache-arrow';
import { RefreshEngine } from '../src/index.js';
import { ReadBudget, readBudget } from '../src/scan/budget.js';
import { MAX_RECORDED_COLUMNS } from '../src/scan/prober.js';
import type { FileScanner } from '../src/scanner.js';
import { tempDir, writeFile } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist', 'src', 'index.js');

/** PAR1 at both ends and a trailer claiming a `footer`-byte footer of zeros, in a `size`-byte file (sparse). */
function claimFooter(file: string, size: number, footer: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    fs.writeSync(fd, Buffer.from('PAR1'), 0, 4, 0);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(footer, 0);
    trailer.write('PAR1', 4);
    fs.writeSync(fd, trailer, 0, 8, size - 8);
  } finally {
    fs.closeSync(fd);
  }
}

const HOST = `
let unhandled = 0;
process.on('unhandledRejection', (e) => { unhandled++; console.error('unhandled', e); });
const [distUrl, lake, root] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, workers: 0 });
await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet' } });
const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
await new Promise((r) => setTimeout(r, 200)); // let any stray rejection surface
console.log(JSON.stringify({ state: info.state, errorCode: info.errorCode, reason: info.reason, unhandled }));
`;

describe('a failing refresh and the host process', () => {
  it('a file failing while another file’s footer read is in flight fails the job, and the host lives on', () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    claimFooter(path.join(lake, 'a.parquet'), 30_000, 20_000); // footer starts before the 16 KiB tail: an async read
    writeFile(path.join(lake, 'b.parquet'), 'not parquet at all');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', HOST, `file://${dist}`, lake, tempDir()], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ state: 'RefreshFailed', errorCode: 'CORRUPT_FILE', unhandled: 0 });
    expect(out.reason).toContain('b.parquet');
  });
});

const RSS_HOST = `
const [distUrl, lake, root] = process.argv.slice(1);
const { RefreshEngine } = await import(distUrl);
const engine = new RefreshEngine({ root, workers: 0 });
await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', skip_invalid: true, allow_empty: true } });
const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
console.log(JSON.stringify({ state: info.state, skipped: info.skipped.length, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
`;

describe('memory of reads in flight', () => {
  it('eight sparse files claiming 100 MiB footers each do not take 800 MiB', () => {
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing: run "npm run build" first (npm test does)`);
    const lake = tempDir();
    const claim = 100 * 1024 * 1024;
    for (let i = 0; i < 8; i++) claimFooter(path.join(lake, `f${i}.parquet`), claim + 4096, claim);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', RSS_HOST, `file://${dist}`, lake, tempDir()], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ state: 'RefreshCompleted', skipped: 8 });
    // the budget lets two 100 MiB footers be in flight; without it all eight were
    expect(out.maxRssMiB).toBeLessThan(560);
  }, 60_000);

  it('footers claimed by many sparse files are read within the budget, one claim at a time when they must', async () => {
    const lake = tempDir();
    const claim = 100 * 1024 * 1024; // 100 MiB each: 8 at once would be 800 MiB
    for (let i = 0; i < 8; i++) claimFooter(path.join(lake, `f${i}.parquet`), claim + 4096, claim);
    const before = readBudget.peak;
    readBudget.peak = 0;
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'parquet', skip_invalid: true, allow_empty: true } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshCompleted');
    expect(info.skipped).toHaveLength(8); // zeros are no footer
    expect(readBudget.peak).toBeGreaterThanOrEqual(claim);
    expect(readBudget.peak).toBeLessThanOrEqual(readBudget.limit);
    expect(readBudget.inFlight).toBe(0);
    readBudget.peak = Math.max(before, readBudget.peak);
  }, 60_000);

  it('a read larger than the whole budget is refused before anything is allocated', async () => {
    const lake = tempDir();
    claimFooter(path.join(lake, 'huge.big'), readBudget.limit + 4096, 0);
    // A scanner that trusts a length from the file: the engine refuses the read, not the allocator.
    const scanner: FileScanner = {
      kind: 'file', format: 'big', extensions: ['.big'],
      probe: async (file) => {
        await file.read(0, readBudget.limit + 1);
        throw new Error('unreachable: the read was allowed');
      },
    };
    const engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [scanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'big' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('CORRUPT_FILE');
    expect(info.reason).toMatch(/huge\.big.*memory budget/);
    expect(readBudget.inFlight).toBe(0);
  });

  it('a schema with more columns than recorded is cut, with a warning that says so', async () => {
    const lake = tempDir();
    writeFile(path.join(lake, 'wide.cols'), 'x');
    const n = MAX_RECORDED_COLUMNS + 5;
    const wide = new Schema(Array.from({ length: n }, (_, i) => new Field(`c${i}`, new Int32(), true)));
    const scanner: FileScanner = { kind: 'file', format: 'cols', extensions: ['.cols'], probe: () => ({ rows: 1, units: [{ rows: 1, byteSize: 1 }], schema: wide }) };
    const engine = new RefreshEngine({ root: tempDir(), workers: 0, scanners: [scanner] });
    await engine.createCollection({ collectionName: 'c', externalSource: lake, externalSpec: { format: 'cols' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'c' });
    expect(m.fileSchemas[0]!.fields).toHaveLength(MAX_RECORDED_COLUMNS);
    expect(m.warnings.join('\n')).toContain(`${n} top-level columns; only the first ${MAX_RECORDED_COLUMNS} are recorded`);
  });
});

describe('the read budget across threads', () => {
  const MiB = 1024 * 1024;

  it('is one count for every thread sharing its state: a read waits for another thread’s release', async () => {
    const main = new ReadBudget(256 * MiB);
    const worker = new ReadBudget(256 * MiB, main.shared); // what a probe worker builds from its job
    const releaseA = await main.acquire(200 * MiB, 'a');
    let granted = false;
    const b = worker.acquire(100 * MiB, 'b').then((release) => {
      granted = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 120));
    expect(granted).toBe(false);
    expect(main.inFlight).toBe(200 * MiB);
    releaseA();
    releaseA(); // idempotent
    const releaseB = await b;
    expect(worker.inFlight).toBe(100 * MiB);
    releaseB();
    expect(main.inFlight).toBe(0);
  });

  it('a waiting read ends with CANCELLED when its refresh is cancelled', async () => {
    const budget = new ReadBudget(10 * MiB);
    const release = await budget.acquire(8 * MiB, 'a');
    const ac = new AbortController();
    const waiting = budget.acquire(8 * MiB, 'b', ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    release();
    expect(budget.inFlight).toBe(0);
  });
});

// Watch bench: start time and memory of watching a tree (parcel vs chokidar vs Node's fs.watch), one poll
// pass, and the time from a change to the committed version with the default debounce.
// 10k files by default; LAKEMAP_BENCH_WATCH_100K=1 adds 100k.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RefreshEngine } from '../src/engine/engine.js';
import { LocalPollSource } from '../src/watch/poll-local.js';
import { changeFilter } from '../src/watch/filter.js';
import { realClock } from '../src/watch/clock.js';
import { parquetScanner } from '../scanners/index.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

type Peer = 'parcel' | 'chokidar' | 'fs.watch';
const PEERS: Peer[] = ['parcel', 'chokidar', 'fs.watch'];
const self = fileURLToPath(import.meta.url);

/** Runs in a child process: starts one watcher on `dir`, reports start time and RSS growth as JSON. */
async function child(peer: Peer, dir: string): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let close: () => Promise<void> | void;
  if (peer === 'parcel') {
    const w = await import('@parcel/watcher');
    const sub = await w.subscribe(dir, () => {});
    close = () => sub.unsubscribe();
  } else if (peer === 'chokidar') {
    const { watch } = await import('chokidar');
    const w = watch(dir, { ignoreInitial: true });
    await new Promise<void>((r) => w.once('ready', () => r()));
    close = () => w.close();
  } else {
    // Node 20 on Linux walks the tree and puts an inotify watch on every file; no "ready" event exists,
    // so the walk is measured until the call and one turn of the event loop return.
    const w = fs.watch(dir, { recursive: true }, () => {});
    await new Promise((r) => setImmediate(r));
    close = () => w.close();
  }
  const ms = performance.now() - t0;
  const rssMB = (process.memoryUsage().rss - rss0) / 1048576;
  await close();
  process.stdout.write(JSON.stringify({ ms, rssMB }));
  process.exit(0);
}

function measurePeer(peer: Peer, dir: string): { ms: number; rssMB: number } | string {
  const r = spawnSync(process.execPath, [self, '--child', peer, dir], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `failed: ${(r.stderr || r.error?.message || '').split('\n')[0]}`;
  return JSON.parse(r.stdout) as { ms: number; rssMB: number };
}

async function changeToCommit(dir: string, mechanism: 'parcel' | 'poll', file: Buffer): Promise<{ ms: number; refreshMs: number; reason: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-watch-root-'));
  try {
    const engine = new RefreshEngine({ root });
    await engine.createCollection({ collectionName: 'w', externalSource: dir, externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'w' }, { mechanism });
    const next = (): Promise<{ at: number; version: number; refreshMs: number }> =>
      new Promise((resolve) => {
        const off = w.on('refreshend', (e) => {
          if (e.job?.committed) {
            off();
            resolve({ at: performance.now(), version: e.job.version, refreshMs: e.job.endTime - e.job.startTime });
          }
        });
      });
    const first = next();
    await w.ready;
    await first;
    const reason = w.status().reason;
    const second = next();
    const t0 = performance.now();
    fs.writeFileSync(path.join(dir, `bench-change-${mechanism}.parquet`), file);
    const done = await second;
    await w.close();
    return { ms: done.at - t0, refreshMs: done.refreshMs, reason };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function treeBench(files: number, log: (line: string) => void, withChange: boolean): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-watch-'));
  try {
    const lake = await writeManyParquetFiles(dir, files);
    const dirs = new Set(lake.paths.map((p) => path.dirname(p))).size + 1;
    log(`\n### ${files.toLocaleString('en-US')} files in ${dirs} directories`);
    log('| watcher | start ms | RSS growth MiB |');
    log('|---|---:|---:|');
    for (const peer of PEERS) {
      const m = measurePeer(peer, dir);
      log(typeof m === 'string' ? `| ${peer} | ${m} | |` : `| ${peer} | ${m.ms.toFixed(0)} | ${m.rssMB.toFixed(1)} |`);
    }
    const poller = new LocalPollSource(dir, changeFilter(parquetScanner, { format: 'parquet' }), 'bench', { clock: realClock, intervalMs: 2000, fullPassEvery: 10 });
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const baseline = await time(() => poller.pass());
    const quick = await time(() => poller.pass(false));
    const full = await time(() => poller.pass(true));
    log(`| lakemap poll: first pass (records ${dirs} dirs and their files) | ${baseline.toFixed(0)} | |`);
    log(`| lakemap poll: directory pass (stat ${dirs} dirs) | ${quick.toFixed(0)} | |`);
    log(`| lakemap poll: full pass (every file stat'ed, 1 in 10 passes) | ${full.toFixed(0)} | |`);
    log(`poll interval after a directory pass: max(2000, 20 × ${quick.toFixed(0)} ms) = ${Math.max(2000, Math.ceil(20 * quick))} ms`);
    if (withChange) {
      const sample = fs.readFileSync(path.join(dir, lake.paths[0]!));
      for (const mechanism of ['parcel', 'poll'] as const) {
        const c = await changeToCommit(dir, mechanism, sample);
        log(`change → committed version (${mechanism}, default debounce 1000 ms${mechanism === 'poll' ? ', poll interval 2000 ms' : ''}): ${c.ms.toFixed(0)} ms, of which the refresh ${c.refreshMs} ms`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Registered in bench/run.ts. */
export async function watchBench(log: (line: string) => void): Promise<void> {
  log(`watching (${os.cpus().length} cores); S3 listing poll: waits for the S3 storage to land`);
  await treeBench(10_000, log, true);
  if (process.env.LAKEMAP_BENCH_WATCH_100K === '1') await treeBench(100_000, log, true);
  else log('(100k files: LAKEMAP_BENCH_WATCH_100K=1)');
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  await child(process.argv[3] as Peer, process.argv[4]!);
}

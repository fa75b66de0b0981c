// Watch bench: start time and memory of watching a tree (parcel vs chokidar vs Node's fs.watch), one poll
// pass, and the time from a change to the committed version with the default debounce.
// 10k files by default; LAKEMAP_BENCH_WATCH_100K=1 adds 100k. One listing-poll pass on s3rver over 1,000 and
// 10,000 objects (LAKEMAP_BENCH_WATCH_S3_10K=0: 1,000 only).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RefreshEngine } from '../src/engine/engine.js';
import { LocalPollSource } from '../src/watch/poll-local.js';
import { changeFilter } from '../src/watch/filter.js';
import { realClock } from '../src/watch/clock.js';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListingPollSource } from '../src/watch/poll-listing.js';
import { openStorage } from '../src/storage/open.js';
import { mapBounded } from '../src/storage/request-policy.js';
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

/**
 * One listing-poll pass over `counts` objects on s3rver (in its own process, 127.0.0.1): what a watch on an
 * `s3://` source costs per poll. Objects are 1-byte placeholders named `*.parquet`: a poll lists, it never reads.
 */
export async function s3PollBench(counts: number[], log: (line: string) => void): Promise<void> {
  const { startServer } = await import('./s3.js');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-watch-s3-'));
  const server = await startServer(path.join(tmp, 'store'));
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
  try {
    log('\n### S3 listing poll (s3rver on 127.0.0.1, its own process; size, ETag and last-modified compared)');
    log('| objects | first pass ms (records) | next pass ms (compares) | poll interval after it |');
    log('|---:|---:|---:|---:|');
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    let have = 0;
    for (const n of counts) {
      const keys = Array.from({ length: n - have }, (_, i) => `lake/part=${Math.floor((have + i) / 100)}/f-${have + i}.parquet`);
      await mapBounded(keys, 32, (Key) => client.send(new PutObjectCommand({ Bucket: 'bench', Key, Body: 'x' })));
      have = n;
      const storage = await openStorage('s3://bench/lake', { endpoint: server.endpoint, ...creds });
      const poller = new ListingPollSource(storage, changeFilter(parquetScanner, { format: 'parquet' }), 'bench', { clock: realClock, intervalMs: 2000 });
      const t0 = performance.now();
      await poller.pass();
      const first = performance.now() - t0;
      const t1 = performance.now();
      const changed = await poller.pass();
      const next = performance.now() - t1;
      if (changed.length !== 0) throw new Error(`an unchanged bucket reported ${changed.length} changes`);
      log(`| ${n.toLocaleString('en-US')} | ${first.toFixed(0)} | ${next.toFixed(0)} | ${Math.max(2000, Math.ceil(20 * next))} ms |`);
    }
  } finally {
    client.destroy();
    server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Registered in bench/run.ts. */
export async function watchBench(log: (line: string) => void): Promise<void> {
  log(`watching (${os.cpus().length} cores)`);
  await treeBench(10_000, log, true);
  if (process.env.LAKEMAP_BENCH_WATCH_100K === '1') await treeBench(100_000, log, true);
  else log('(100k files: LAKEMAP_BENCH_WATCH_100K=1)');
  await s3PollBench(process.env.LAKEMAP_BENCH_WATCH_S3_10K === '0' ? [1000] : [1000, 10_000], log);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--child') {
  await child(process.argv[3] as Peer, process.argv[4]!);
}

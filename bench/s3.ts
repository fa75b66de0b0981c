// Object storage bench: N parquet objects on a local S3 server (s3rver, in its own process).
// lakemap native S3 vs DuckDB through an s3fs mount of the same bucket (external file cache on and
// off, a fresh instance and a fresh mount each time) vs lakemap on the mount vs the request floor
// (bare SDK: list + one ranged GET per object at the same concurrency). Runs in a child process so
// libuv gets enough threads for the mount.
//
//   LAKEMAP_BENCH_S3_OBJECTS=1000,10000   bucket sizes (default 1000; 10,000 takes several minutes)
//   LAKEMAP_BENCH_S3_RUNS=3               runs of the native cases and the floor, best kept
//   LAKEMAP_BENCH_S3_DUCK_THREADS=1,16    DuckDB thread counts tried (each with the cache off and on)
//   LAKEMAP_BENCH_S3_STORE=<dir>          s3rver's data directory, kept between runs: objects are
//                                         uploaded once per size (default <tmp>/lakemap-bench-s3-store)
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { S3Client, CreateBucketCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RefreshEngine } from '../src/engine/engine.js';
import { LocalStorage } from '../src/storage/local.js';
import { listTreeAsync } from '../src/storage/async-list.js';
import { openStorage } from '../src/storage/open.js';
import { mapBounded } from '../src/storage/request-policy.js';
import { queryRows, sqlString, writeManyParquetFiles } from '../fixtures/parquet/index.js';

const SIZES = (process.env.LAKEMAP_BENCH_S3_OBJECTS ?? '1000').split(',').map(Number).filter((n) => n > 0);
const RUNS = Math.max(1, Number(process.env.LAKEMAP_BENCH_S3_RUNS ?? 3));
const DUCK_THREADS = (process.env.LAKEMAP_BENCH_S3_DUCK_THREADS ?? '1,16').split(',').map(Number).filter((n) => n > 0);
const STORE = process.env.LAKEMAP_BENCH_S3_STORE ?? path.join(os.tmpdir(), 'lakemap-bench-s3-store');
const CONCURRENCY = 64;
const TAIL = 64 * 1024;
const KEY = 'S3RVER';

/** Best times (ms) of one bucket size, by case, and the ratios the targets are about. */
export interface S3BenchResult {
  objects: number;
  ms: Record<string, number>;
  /** Requests the server answered in the last run of each case. */
  requests: Record<string, RequestCounts>;
  ratios: Record<string, number>;
}

/** Entry point from bench/run.ts: runs the bench in a child with a large libuv thread pool. */
export async function s3Bench(log: (line: string) => void): Promise<S3BenchResult[]> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--child'], { env: { ...process.env, UV_THREADPOOL_SIZE: '64' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let results: S3BenchResult[] = [];
    child.stdout.on('data', (d: Buffer) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('RESULTS ')) results = JSON.parse(l.slice('RESULTS '.length)) as S3BenchResult[];
        else log(l);
      }
    });
    child.on('close', (code) => (code === 0 ? resolve(results) : reject(new Error(`s3 bench exited with ${code}`))));
  });
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** Requests a server saw, by kind (`HEAD`, `GET range`, `GET list`, `PUT` …). */
export type RequestCounts = Record<string, number>;

/**
 * Starts s3rver in its own process (so its work does not share this event loop) on a free port.
 * `counts()` returns the requests it answered since the previous call, by kind.
 */
export async function startServer(dir: string): Promise<{ endpoint: string; stop(): void; counts(): Promise<RequestCounts> }> {
  const require = createRequire(import.meta.url);
  const script = `const s = new (require(${JSON.stringify(require.resolve('s3rver'))}))({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)} });
let c = {};
s.run().then((a) => {
  s.httpServer.on('request', (q) => { const k = q.method + (q.headers.range ? ' range' : /[?&]prefix=/.test(q.url) ? ' list' : ''); c[k] = (c[k] || 0) + 1; });
  console.log('PORT ' + a.port);
});
process.stdin.on('data', () => { console.log('COUNTS ' + JSON.stringify(c)); c = {}; });
process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((counts: RequestCounts) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (line.startsWith('PORT ')) resolve(Number(line.slice(5)));
        else if (line.startsWith('COUNTS ')) waiting.shift()?.(JSON.parse(line.slice(7)) as RequestCounts);
      }
    });
    child.once('exit', () => reject(new Error('s3rver exited')));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => void child.kill('SIGKILL'),
    counts: () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write('\n');
      }),
  };
}

/** A fresh s3fs mount of `bucket` (cold stat cache), or why there is none. */
function mount(endpoint: string, bucket: string, tmp: string): { dir: string; unmount(): void } | string {
  if (!fs.existsSync('/dev/fuse')) return '/dev/fuse missing';
  const dir = fs.mkdtempSync(path.join(tmp, 'mnt-'));
  const pw = path.join(tmp, 'passwd');
  fs.writeFileSync(pw, `${KEY}:${KEY}\n`, { mode: 0o600 });
  const r = spawnSync('s3fs', [bucket, dir, '-o', `passwd_file=${pw},url=${endpoint},use_path_request_style`], { encoding: 'utf8' });
  if (r.status !== 0) return `s3fs failed: ${r.error?.message ?? r.stderr}`;
  for (let i = 0; i < 200 && !fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `); i++) spawnSync('sleep', ['0.05']);
  return { dir, unmount: () => void spawnSync('fusermount', ['-u', dir]) };
}

async function onMount<T>(endpoint: string, bucket: string, tmp: string, fn: (dir: string) => Promise<T>): Promise<T | string> {
  const m = mount(endpoint, bucket, tmp);
  if (typeof m === 'string') return m;
  try {
    return await fn(path.join(m.dir, 'lake'));
  } finally {
    m.unmount();
  }
}

/**
 * The bucket `bench-<n>` with n parquet objects under `lake/` (and s3fs directory markers), uploaded
 * on the first run only: `meta.json`, written last, says the upload is complete. Returns the rows.
 */
async function ensureBucket(client: S3Client, bucket: string, n: number, tmp: string, log: (l: string) => void): Promise<number> {
  try {
    const meta = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta.json' }))).Body!.transformToString()) as { objects: number; rows: number };
    if (meta.objects === n) return meta.rows;
  } catch {
    // not uploaded yet
  }
  log(`(uploading ${n.toLocaleString('en-US')} objects to ${bucket} once; kept in ${STORE})`);
  await client.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  const local = fs.mkdtempSync(path.join(tmp, 'lake-'));
  const lake = await writeManyParquetFiles(local, n);
  const dirs = new Set(lake.paths.map((p) => `lake/${path.posix.dirname(p)}/`)).add('lake/');
  await mapBounded([...lake.paths, ...dirs], 16, async (p) => {
    const key = p.endsWith('/') ? p : `lake/${p}`;
    const body = p.endsWith('/') ? new Uint8Array(0) : fs.readFileSync(path.join(local, p));
    for (let attempt = 1; ; attempt++) {
      try {
        return void (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
      } catch (e) {
        if (attempt >= 5) throw e; // s3rver resets a connection now and then under load
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  });
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta.json', Body: JSON.stringify({ objects: n, rows: lake.rows }) }));
  fs.rmSync(local, { recursive: true, force: true });
  return lake.rows;
}

type Server = Awaited<ReturnType<typeof startServer>>;

async function benchSize(n: number, server: Server, client: S3Client, tmp: string, log: (l: string) => void): Promise<S3BenchResult> {
  const { endpoint } = server;
  const bucket = `bench-${n}`;
  const rows = await ensureBucket(client, bucket, n, tmp, log);
  const best: Record<string, number> = {};
  const keep = (name: string, ms: number): void => void (best[name] = Math.min(best[name] ?? Infinity, ms));
  const requests: Record<string, RequestCounts> = {};
  /** Times `fn` and notes the requests the server answered meanwhile. */
  const measured = async <T>(name: string, fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
    await server.counts();
    const r = await time(fn);
    requests[name] = await server.counts();
    return r;
  };
  const storageOptions = { endpoint, accessKeyId: KEY, secretAccessKey: KEY };

  const bareList = async (): Promise<{ key: string; size: number }[]> => {
    const objs: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'lake/', ...(token ? { Marker: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key!.endsWith('.parquet')) objs.push({ key: o.Key!, size: Number(o.Size) });
      token = page.IsTruncated ? page.Contents?.at(-1)?.Key : undefined; // as lakemap pages (s3rver's tokens are broken)
    } while (token);
    return objs;
  };
  const floor = async (): Promise<number> => {
    const objs = await bareList();
    await mapBounded(objs, CONCURRENCY, async (o) => {
      const k = Math.min(o.size, TAIL);
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.key, Range: `bytes=${o.size - k}-${o.size - 1}` }));
      await r.Body!.transformToByteArray();
    });
    return objs.length;
  };
  let runId = 0;
  const refresh = async (name: string, source: string, opts = {}) => {
    const engine = new RefreshEngine({ root: path.join(tmp, `root-${n}-${runId++}`), concurrency: CONCURRENCY, storageOptions: opts });
    await engine.createCollection({ collectionName: 'b', externalSource: source, externalSpec: { format: 'parquet' } });
    const go = async () => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'b' })).jobId);
    const full = await measured(`${name}Full`, go);
    if (full.value.state !== 'RefreshCompleted') throw new Error(full.value.reason);
    const m = await engine.getManifest({ collectionName: 'b' });
    if (m.totalRows !== rows) throw new Error(`lakemap mapped ${m.totalRows} rows, expected ${rows}`);
    const same = await measured(`${name}Same`, go);
    if (same.value.committed) throw new Error('no-change refresh committed');
    await engine.close();
    return { full: full.ms, same: same.ms };
  };

  // Native cases and the floor interleaved, best of RUNS: the machine's load moves between runs.
  for (let r = 0; r < RUNS; r++) {
    const f = await measured('floor', floor);
    if (f.value !== n) throw new Error(`floor listed ${f.value} objects`);
    keep('floor', f.ms);
    keep('floorList', (await time(bareList)).ms);
    const native = await refresh('native', `s3://${bucket}/lake`, storageOptions);
    keep('nativeFull', native.full);
    keep('nativeSame', native.same);
    const storage = await openStorage(`s3://${bucket}/lake`, storageOptions);
    keep('nativeList', (await time(() => storage.list())).ms);
  }

  // The mount: a fresh mount (cold s3fs caches) and a fresh DuckDB instance for every measurement.
  const notRun: string[] = [];
  const note = (name: string, v: number | string): void => (typeof v === 'string' ? void notRun.push(`${name}: ${v}`) : keep(name, v));
  const visible = (name: string): boolean => !name.startsWith('.') && !name.startsWith('_');
  note('mountListSync', await onMount(endpoint, bucket, tmp, async (dir) => (await measured('mountListSync', async () => new LocalStorage(dir).listSync('', visible))).ms));
  note('mountListAsync', await onMount(endpoint, bucket, tmp, async (dir) => (await measured('mountListAsync', () => listTreeAsync(fs.realpathSync(dir), '', { filter: visible }))).ms));
  const mounted = await onMount(endpoint, bucket, tmp, (dir) => refresh('mount', dir));
  note('mountFull', typeof mounted === 'string' ? mounted : mounted.full);
  note('mountSame', typeof mounted === 'string' ? mounted : mounted.same);
  for (const threads of DUCK_THREADS) {
    for (const cache of [false, true]) {
      const ms = await onMount(endpoint, bucket, tmp, async (dir) => {
        const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
        const con = await db.connect();
        try {
          await queryRows(con, `SET enable_external_file_cache = ${cache}`);
          const t = await measured(`duck:${threads}:${cache ? 'on' : 'off'}`, () => queryRows(con, `SELECT count(*) AS n, sum(num_rows) AS r FROM parquet_file_metadata(${sqlString(path.join(dir, '**', '*.parquet'))})`));
          if (Number(t.value[0]!.n) !== n || Number(t.value[0]!.r) !== rows) throw new Error(`DuckDB saw ${String(t.value[0]!.n)} files`);
          return t.ms;
        } finally {
          con.closeSync();
          db.closeSync();
        }
      });
      note(`duck:${threads}:${cache ? 'on' : 'off'}`, ms);
    }
  }

  const duckKeys = Object.keys(best).filter((k) => k.startsWith('duck:'));
  const bestDuck = Math.min(...duckKeys.map((k) => best[k]!));
  const label: [string, string][] = [
    ['floor', 'request floor (bare SDK: list + 1 ranged GET per object)'],
    ['floorList', '  of which the listing alone (bare SDK)'],
    ['nativeFull', 'lakemap native s3:// full refresh'],
    ['nativeList', '  lakemap s3:// listing alone'],
    ['nativeSame', 'lakemap native s3:// no-change refresh (the listing only)'],
    ...duckKeys.map((k): [string, string] => {
      const [, threads, cache] = k.split(':');
      return [k, `DuckDB parquet_file_metadata on the s3fs mount, ${threads} thread${threads === '1' ? '' : 's'}, external file cache ${cache}`];
    }),
    ['mountFull', 'lakemap full refresh on the s3fs mount (pipelined)'],
    ['mountSame', 'lakemap no-change refresh on the s3fs mount'],
    ['mountListSync', 'listing of the mount, one synchronous call at a time (the old path)'],
    ['mountListAsync', 'listing of the mount, asynchronous (calls in flight)'],
  ];
  log(`\n### object storage: ${n.toLocaleString('en-US')} parquet objects on s3rver (127.0.0.1), concurrency ${CONCURRENCY}, best of ${RUNS} for the native cases`);
  log('| case | ms | objects/s |');
  log('|---|---:|---:|');
  for (const [k, name] of label) if (best[k] !== undefined) log(`| ${name} | ${best[k]!.toFixed(0)} | ${Math.round((n / best[k]!) * 1000).toLocaleString('en-US')} |`);
  for (const s of notRun) log(`not run: ${s}`);
  const ratios: Record<string, number> = { nativeOverFloor: best.nativeFull! / best.floor! };
  if (Number.isFinite(bestDuck)) {
    ratios.duckOverNative = bestDuck / best.nativeFull!;
    ratios.duckOverFloor = bestDuck / best.floor!;
    if (best.mountFull !== undefined) ratios.duckOverMount = bestDuck / best.mountFull;
    log(`native s3:// vs DuckDB on the mount (its best): ${ratios.duckOverNative.toFixed(2)}x (target >= 5x); the floor itself: ${ratios.duckOverFloor.toFixed(2)}x`);
    if (ratios.duckOverMount) log(`lakemap on the mount vs DuckDB on the mount (its best): ${ratios.duckOverMount.toFixed(2)}x (target >= 2x)`);
  }
  log(`native s3:// vs the request floor: ${ratios.nativeOverFloor.toFixed(2)}x the floor's time (target <= 1.5x)`);
  if (best.mountListSync !== undefined && best.mountListAsync !== undefined) {
    ratios.mountListSpeedup = best.mountListSync / best.mountListAsync;
    log(`listing of the mount: asynchronous ${ratios.mountListSpeedup.toFixed(2)}x faster than one call at a time`);
  }
  const total = (k: string): number => Object.values(requests[k] ?? {}).reduce((a, b) => a + b, 0);
  const spelled = (k: string): string =>
    Object.entries(requests[k] ?? {})
      .sort((a, b) => b[1] - a[1])
      .map(([kind, c]) => `${c.toLocaleString('en-US')} ${kind}`)
      .join(' + ');
  log(`requests the server answered (its rate is the bottleneck here, whoever asks), per ${n.toLocaleString('en-US')} objects:`);
  for (const k of ['floor', 'nativeFull', 'nativeSame', 'mountListSync', 'mountListAsync', 'mountFull', 'mountSame', ...duckKeys]) {
    if (requests[k]) log(`  ${k}: ${spelled(k) || 'none'} (${(total(k) / n).toFixed(2)} per object)`);
  }
  if (duckKeys.length > 0) {
    ratios.duckRequestsOverNative = Math.min(...duckKeys.map(total)) / total('nativeFull');
    log(`DuckDB on the mount sends ${ratios.duckRequestsOverNative.toFixed(2)}x the requests of native s3://: the most a request-bound server lets the ratio be`);
  }
  return { objects: n, ms: best, requests, ratios };
}

async function child(): Promise<void> {
  const log = (l: string): void => console.log(l);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-s3-'));
  fs.mkdirSync(STORE, { recursive: true });
  const server = await startServer(STORE);
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: KEY }, maxAttempts: 3 }); // the SDK's default: s3rver resets a kept-alive connection now and then, lakemap retries those too
  try {
    const results: S3BenchResult[] = [];
    for (const n of SIZES) results.push(await benchSize(n, server, client, tmp, log));
    log(`RESULTS ${JSON.stringify(results)}`);
  } finally {
    client.destroy();
    server.stop();
    // Never remove through a mount that is still there: that would delete the bucket's objects.
    if (!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${tmp}/`)) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`left ${tmp} in place: a mount below it is still there`);
  }
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) await child();

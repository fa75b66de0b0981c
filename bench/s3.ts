// Object storage bench: N parquet objects on a local S3 server (s3rver, in its own process).
// lakemap native S3 vs DuckDB through an s3fs mount of the same bucket (external file cache on and
// off) vs lakemap on the mount vs the request floor (bare SDK: list + one ranged GET per object at
// the same concurrency). Runs in a child process so libuv gets enough threads for the mount.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, CreateBucketCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RefreshEngine } from '../src/engine/engine.js';
import { mapBounded } from '../src/storage/request-policy.js';
import { queryRows, sqlString, withDuckDB, writeManyParquetFiles } from '../fixtures/parquet/index.js';

const OBJECTS = Number(process.env.LAKEMAP_BENCH_S3_OBJECTS ?? 1000);
const CONCURRENCY = 64;
const TAIL = 64 * 1024;
const KEY = 'S3RVER';

/** Entry point from bench/run.ts: runs the bench in a child with a large libuv thread pool. */
export async function s3Bench(log: (line: string) => void): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--child'], { env: { ...process.env, UV_THREADPOOL_SIZE: '64' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) log(l);
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`s3 bench exited with ${code}`))));
  });
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** Starts s3rver in its own process (so its work does not share this event loop) on a free port. */
export async function startServer(dir: string): Promise<{ endpoint: string; stop(): void }> {
  const require = createRequire(import.meta.url);
  const script = `new (require(${JSON.stringify(require.resolve('s3rver'))}))({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)} }).run().then((a) => console.log('PORT ' + a.port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('s3rver exited')));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function mount(endpoint: string, tmp: string): { dir: string; unmount(): void } | string {
  if (!fs.existsSync('/dev/fuse')) return '/dev/fuse missing';
  const dir = fs.mkdtempSync(path.join(tmp, 'mnt-'));
  const pw = path.join(tmp, 'passwd');
  fs.writeFileSync(pw, `${KEY}:${KEY}\n`, { mode: 0o600 });
  const r = spawnSync('s3fs', ['bench', dir, '-o', `passwd_file=${pw},url=${endpoint},use_path_request_style`], { encoding: 'utf8' });
  if (r.status !== 0) return `s3fs failed: ${r.error?.message ?? r.stderr}`;
  for (let i = 0; i < 200 && !fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `); i++) spawnSync('sleep', ['0.05']);
  return { dir, unmount: () => void spawnSync('fusermount', ['-u', dir]) };
}

async function child(): Promise<void> {
  const log = (l: string): void => console.log(l);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-s3-'));
  const server = await startServer(path.join(tmp, 'store'));
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: KEY }, maxAttempts: 1 });
  try {
    const local = path.join(tmp, 'lake');
    fs.mkdirSync(local);
    const lake = await writeManyParquetFiles(local, OBJECTS);
    await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const dirs = new Set(lake.paths.map((p) => `lake/${path.posix.dirname(p)}/`)).add('lake/');
    await mapBounded([...lake.paths, ...dirs], 16, async (p) => {
      const key = p.endsWith('/') ? p : `lake/${p}`;
      await client.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: p.endsWith('/') ? new Uint8Array(0) : fs.readFileSync(path.join(local, p)) }));
    });
    log(`\n## object storage: ${OBJECTS.toLocaleString('en-US')} parquet objects on s3rver (127.0.0.1), concurrency ${CONCURRENCY}`);
    const rows: [string, number][] = [];

    // Request floor: one listing, then one explicit ranged GET of each object's tail.
    const floor = await time(async () => {
      const objs: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsCommand({ Bucket: 'bench', Prefix: 'lake/', ...(token ? { Marker: token } : {}) }));
        for (const o of page.Contents ?? []) if (o.Key!.endsWith('.parquet')) objs.push({ key: o.Key!, size: Number(o.Size) });
        token = page.IsTruncated ? page.Contents?.at(-1)?.Key : undefined; // as lakemap pages (s3rver's tokens are broken)
      } while (token);
      await mapBounded(objs, CONCURRENCY, async (o) => {
        const n = Math.min(o.size, TAIL);
        const r = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: o.key, Range: `bytes=${o.size - n}-${o.size - 1}` }));
        await r.Body!.transformToByteArray();
      });
      return objs.length;
    });
    if (floor.value !== OBJECTS) throw new Error(`floor listed ${floor.value} objects`);
    rows.push(['request floor (bare SDK: list + 1 ranged GET per object)', floor.ms]);

    const refresh = async (source: string, storageOptions = {}) => {
      const engine = new RefreshEngine({ root: path.join(tmp, `root-${rows.length}`), concurrency: CONCURRENCY, storageOptions });
      await engine.createCollection({ collectionName: 'b', externalSource: source, externalSpec: { format: 'parquet' } });
      const go = async () => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'b' })).jobId);
      const full = await time(go);
      if (full.value.state !== 'RefreshCompleted') throw new Error(full.value.reason);
      const m = await engine.getManifest({ collectionName: 'b' });
      if (m.totalRows !== lake.rows) throw new Error(`lakemap mapped ${m.totalRows} rows, expected ${lake.rows}`);
      const same = await time(go);
      if (same.value.committed) throw new Error('no-change refresh committed');
      return { full: full.ms, same: same.ms };
    };
    const native = await refresh('s3://bench/lake', { endpoint: server.endpoint, accessKeyId: KEY, secretAccessKey: KEY });
    rows.push(['lakemap native s3:// full refresh', native.full], ['lakemap native s3:// no-change refresh (one listing)', native.same]);

    const duck = async (cache: boolean): Promise<number | string> => {
      const m = mount(server.endpoint, tmp);
      if (typeof m === 'string') return m;
      try {
        return await withDuckDB(async (con) => {
          await queryRows(con, `SET enable_external_file_cache = ${cache}`);
          const t = await time(() => queryRows(con, `SELECT count(*) AS n FROM parquet_file_metadata(${sqlString(path.join(m.dir, 'lake', '**', '*.parquet'))})`));
          if (Number(t.value[0]!.n) !== OBJECTS) throw new Error(`DuckDB saw ${String(t.value[0]!.n)} files`);
          return t.ms;
        });
      } finally {
        m.unmount();
      }
    };
    const duckOff = await duck(false);
    const duckOn = await duck(true);
    let onMount: { full: number; same: number } | string;
    const m = mount(server.endpoint, tmp);
    if (typeof m === 'string') onMount = m;
    else {
      try {
        onMount = await refresh(path.join(m.dir, 'lake'));
      } finally {
        m.unmount();
      }
    }
    for (const [name, v] of [['DuckDB parquet_file_metadata on the s3fs mount, external file cache off', duckOff], ['DuckDB parquet_file_metadata on the s3fs mount, external file cache on', duckOn]] as const) {
      if (typeof v === 'string') log(`${name}: not run (${v})`);
      else rows.push([name, v]);
    }
    if (typeof onMount === 'string') log(`lakemap on the mount: not run (${onMount})`);
    else rows.push(['lakemap full refresh on the s3fs mount (pipelined)', onMount.full], ['lakemap no-change refresh on the s3fs mount', onMount.same]);

    log('| case | ms | objects/s |');
    log('|---|---:|---:|');
    for (const [name, ms] of rows) log(`| ${name} | ${ms.toFixed(0)} | ${Math.round((OBJECTS / ms) * 1000).toLocaleString('en-US')} |`);
    const bestDuck = Math.min(...[duckOff, duckOn].filter((x): x is number => typeof x === 'number'));
    if (Number.isFinite(bestDuck)) {
      log(`native s3:// vs DuckDB on the mount (its best): ${(bestDuck / native.full).toFixed(2)}x (target >= 5x)`);
      if (typeof onMount !== 'string') log(`lakemap on the mount vs DuckDB on the mount (its best): ${(bestDuck / onMount.full).toFixed(2)}x (target >= 2x)`);
    }
    log(`native s3:// vs the request floor: ${(native.full / floor.ms).toFixed(2)}x the floor's time (target <= 1.5x)`);
  } finally {
    client.destroy();
    server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) await child();

// `npm run bench`: lakemap against its peers, measured in the same run on the same files.
// Prints files/s and the ratios the targets are stated in (docs/benchmarks.md).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RefreshEngine } from '../src/engine/engine.js';
import { queryRows, sqlString, withDuckDB, writeManyParquetFiles } from '../fixtures/parquet/index.js';

const FILES = Number(process.env.LAKEMAP_BENCH_FILES ?? 10_000);
const log = (line: string): void => console.log(line);

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')} files/s`;
}

/** The bare I/O floor: open, read the 8-byte trailer, read the footer, close. */
function footerLoopSync(files: string[]): number {
  const trailer = Buffer.alloc(8);
  let bytes = 0;
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    const size = fs.fstatSync(fd).size;
    fs.readSync(fd, trailer, 0, 8, size - 8);
    const len = trailer.readUInt32LE(0);
    const footer = Buffer.allocUnsafe(len);
    bytes += fs.readSync(fd, footer, 0, len, size - 8 - len);
    fs.closeSync(fd);
  }
  return bytes;
}

async function footerLoopAsync(files: string[], concurrency = 16): Promise<number> {
  let bytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    const trailer = Buffer.alloc(8);
    while (next < files.length) {
      const fh = await fs.promises.open(files[next++]!, 'r');
      const { size } = await fh.stat();
      await fh.read(trailer, 0, 8, size - 8);
      const len = trailer.readUInt32LE(0);
      const footer = Buffer.allocUnsafe(len);
      bytes += (await fh.read(footer, 0, len, size - 8 - len)).bytesRead;
      await fh.close();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return bytes;
}

async function parquetBench(dir: string): Promise<void> {
  log(`\n## parquet: ${FILES.toLocaleString('en-US')} files (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'})`);
  const { value: lake } = await time(() => writeManyParquetFiles(dir, FILES));
  const abs = lake.paths.map((p) => path.join(dir, p));
  const footer = fs.readFileSync(abs[0]!);
  log(`lake: ${lake.rows.toLocaleString('en-US')} rows, footer ${footer.readUInt32LE(footer.length - 8)} bytes per file`);
  footerLoopSync(abs); // warm the page cache

  const sync = await time(() => footerLoopSync(abs));
  const asyncLoop = await time(() => footerLoopAsync(abs));
  const duck = await withDuckDB(async (con) => {
    await queryRows(con, `SELECT count(*) FROM parquet_file_metadata(${sqlString(abs[0]!)})`); // load the reader once
    return time(async () => {
      const rows = await queryRows(con, `SELECT count(*) AS n, sum(num_rows) AS r FROM parquet_file_metadata(${sqlString(path.join(dir, '**', '*.parquet'))})`);
      return Number(rows[0]!.n);
    });
  });
  if (duck.value !== FILES) throw new Error(`DuckDB saw ${duck.value} files, expected ${FILES}`);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-root-'));
  try {
    const engine = new RefreshEngine({ root });
    await engine.createCollection({ collectionName: 'bench', externalSource: dir, externalSpec: { format: 'parquet' } });
    const refresh = async () => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'bench' })).jobId);
    const heapBefore = process.memoryUsage().heapUsed;
    const full = await time(refresh);
    if (full.value.state !== 'RefreshCompleted') throw new Error(full.value.reason);
    const heapAfter = process.memoryUsage().heapUsed;
    const m = await engine.getManifest({ collectionName: 'bench' });
    if (m.totalRows !== lake.rows || m.files.length !== FILES) throw new Error(`manifest has ${m.totalRows} rows in ${m.files.length} files`);
    const same = await time(refresh);
    if (same.value.committed) throw new Error('the no-change refresh committed a version');
    const cold = new RefreshEngine({ root });
    const sameFresh = await time(async () => cold.waitForRefresh((await cold.refreshExternalCollection({ collectionName: 'bench' })).jobId));

    log('| case | ms | files/s |');
    log('|---|---:|---:|');
    log(`| node sync open/read/read/close loop | ${sync.ms.toFixed(0)} | ${rate(FILES, sync.ms)} |`);
    log(`| node fs.promises loop (16 in flight) | ${asyncLoop.ms.toFixed(0)} | ${rate(FILES, asyncLoop.ms)} |`);
    log(`| DuckDB parquet_file_metadata | ${duck.ms.toFixed(0)} | ${rate(FILES, duck.ms)} |`);
    log(`| lakemap full refresh | ${full.ms.toFixed(0)} | ${rate(FILES, full.ms)} |`);
    log(`| lakemap no-change refresh | ${same.ms.toFixed(0)} | ${rate(FILES, same.ms)} |`);
    log(`| lakemap no-change refresh, new engine (manifest loaded from disk) | ${sameFresh.ms.toFixed(0)} | ${rate(FILES, sameFresh.ms)} |`);
    log(`full refresh vs DuckDB: ${(duck.ms / full.ms).toFixed(2)}x (target >= 3x)`);
    log(`full refresh vs node sync footer loop: ${(sync.ms / full.ms).toFixed(2)}x`);
    log(`no-change refresh: ${rate(FILES, same.ms)} (target >= 100,000 files/s)`);
    log(`heap growth during the full refresh: ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB; manifest ${(fs.statSync(path.join(root, 'default', 'bench', 'manifests', 'v000001.json')).size / 1048576).toFixed(1)} MiB`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Optional per-format cases that scanner folders contribute (bench/<format>.ts). */
async function formatBenches(): Promise<void> {
  const cases: [string, string, string][] = [
    ['parquet probe', './parquet.js', 'parquetProbeBench'],
    ['lance', './lance.js', 'lanceBench'],
    ['iceberg', './iceberg.js', 'icebergBench'],
    ['vortex', './vortex.js', 'vortexBench'],
    ['watch', './watch.js', 'watchBench'],
  ];
  for (const [name, mod, fn] of cases) {
    let m: Record<string, unknown>;
    try {
      m = await import(mod);
    } catch {
      continue; // this format has no bench yet
    }
    const run = m[fn] as ((...a: unknown[]) => Promise<void>) | undefined;
    if (typeof run !== 'function') continue;
    log(`\n## ${name}`);
    if (name === 'parquet probe') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-probe-'));
      try {
        await writeManyParquetFiles(dir, 1000);
        await run(dir, log);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } else await run(log);
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-lake-'));
try {
  await parquetBench(dir);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
await formatBenches();

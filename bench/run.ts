// `npm run bench`: lakemap against its peers, measured in the same run on the same files.
// Prints a table, writes bench/results/latest.json and latest.svg (LAKEMAP_BENCH_PUBLISH=1 also copies
// them to docs/benchmarks/, the documented run). See docs/benchmarks.md.
//
//   LAKEMAP_BENCH_FILES=1000,10000   lake sizes (default); LAKEMAP_BENCH_LARGE=1 adds 100,000 files
//                                    and lance at 10,000 fragments
//   LAKEMAP_BENCH_COLD=0             skip the cold-cache runs (they drop the page cache, as root)
//   LAKEMAP_BENCH_ONLY=lance,vortex  run only the named benches ("parquet refresh" is "refresh")
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';
import { lineChartSvg } from './chart.js';
import type { RefreshBenchResult } from './refresh.js';

const log = (line: string): void => console.log(line);
const large = process.env.LAKEMAP_BENCH_LARGE === '1';
const sizes = (process.env.LAKEMAP_BENCH_FILES ?? '1000,10000').split(',').map(Number).filter((n) => n > 0);
if (large && !sizes.includes(100_000)) sizes.push(100_000);
const only = process.env.LAKEMAP_BENCH_ONLY?.split(',');

/** What a registered bench gets. */
interface BenchContext {
  log: (line: string) => void;
  /** A temporary lake of `n` small parquet files, removed after `fn`. */
  withParquetLake<T>(n: number, fn: (dir: string) => Promise<T>): Promise<T>;
}

/** A registered bench: its result (JSON-safe) goes into latest.json under its name. */
interface Bench {
  name: string;
  /** Only with LAKEMAP_BENCH_LARGE=1. */
  large?: boolean;
  run(ctx: BenchContext): Promise<unknown>;
}

// The registry: one line per bench module.
const benches: Bench[] = [
  { name: 'refresh', run: async (c) => runRefresh(c) },
  { name: 'parquet probe', run: async (c) => c.withParquetLake(1000, async (dir) => (await import('./parquet.js')).parquetProbeBench(dir, c.log)) },
  { name: 'lance', run: async (c) => (await import('./lance.js')).lanceBench(c.log, 1000) },
  { name: 'lance 10k', large: true, run: async (c) => (await import('./lance.js')).lanceBench(c.log, 10_000) },
  { name: 'chunks', run: async (c) => (await import('./chunks.js')).chunksBench(large ? 100_000 : 10_000, c.log) },
  { name: 'workers', run: async (c) => (await import('./workers.js')).workersBench(large ? [1000, 10_000, 100_000] : [1000, 10_000], c.log) },
  { name: 'iceberg', run: async (c) => (await import('./iceberg.js')).icebergBench(c.log) },
  { name: 'vortex', run: async (c) => (await import('./vortex.js')).vortexBench(c.log) },
  { name: 'watch', run: async (c) => (await import('./watch.js')).watchBench(c.log) },
  { name: 's3', run: async (c) => (await import('./s3.js')).s3Bench(c.log) },
  { name: 'read', run: async (c) => (await import('./read.js')).readBench(c.log) },
  { name: 'read-lance', run: async (c) => (await import('./read-lance.js')).readLanceBench(c.log) },
];

async function withParquetLake<T>(n: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-lake-'));
  try {
    await writeManyParquetFiles(dir, n);
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const rate = (n: number, ms: number): string => Math.round((n / ms) * 1000).toLocaleString('en-US');
const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

async function runRefresh(c: BenchContext): Promise<RefreshBenchResult[]> {
  const { refreshBench } = await import('./refresh.js');
  const cold = process.env.LAKEMAP_BENCH_COLD !== '0';
  const results: RefreshBenchResult[] = [];
  for (const n of sizes) results.push(await refreshBench(n, c.log, cold));
  c.log('\n| files | cache | node sync floor ms | DuckDB cache on ms | DuckDB cache off ms | lakemap full ms | full files/s | vs DuckDB best (target ≥4× warm, ≥2× cold) | vs node floor |');
  c.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    for (const [cache, t] of [['warm', r.warm], ['cold', r.cold]] as const) {
      if (!t) {
        c.log(`| ${r.files} | cold | ${r.coldSkipped} |||||||`);
        continue;
      }
      c.log(`| ${r.files} | ${cache} | ${fmt(t.nodeSyncFloorMs)} | ${fmt(t.duckdbCacheOnMs)} | ${fmt(t.duckdbCacheOffMs)} | ${fmt(t.lakemapFullMs)} | ${rate(r.files, t.lakemapFullMs)} | ${x(t.duckdbBestMs, t.lakemapFullMs)} | ${x(t.nodeSyncFloorMs, t.lakemapFullMs)} |`);
    }
  }
  c.log('\n| files | 1% touched ms (% of full; target ≤10%) | bytes written (% of full; target ≤10%) | 1% touched, hinted ms (% of full) | hinted bytes written (% of full) | no-change in-process ms (files/s; target ≥200k) | no-change new engine ms | no-change CLI ms (target <500 at 100k) | peak RSS MiB: CLI full refresh / show --json (target <300) |');
  c.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const t = r.touch1pct;
    const h = r.touch1pctHinted;
    const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)}%`;
    c.log(
      `| ${r.files} | ${fmt(t.ms)} (${pct(t.ms, r.warm.lakemapFullMs)}) | ${t.bytesWritten.toLocaleString('en-US')} (${pct(t.bytesWritten, t.fullBytesWritten)}) | ` +
        `${fmt(h.ms)} (${pct(h.ms, r.warm.lakemapFullMs)}) | ${h.bytesWritten.toLocaleString('en-US')} (${pct(h.bytesWritten, t.fullBytesWritten)}) | ` +
        `${fmt(r.noChange.inProcessMs)} (${rate(r.files, r.noChange.inProcessMs)}) | ${fmt(r.noChange.newEngineMs)} | ${fmt(r.noChange.cliMs)} | ` +
        `${r.rssMiB.cliFullRefresh.toFixed(0)} / ${r.rssMiB.cliShowJson.toFixed(0)} |`,
    );
  }
  return results;
}

function chart(results: RefreshBenchResult[]): string {
  const pts = (f: (r: RefreshBenchResult) => number | undefined): [number, number][] =>
    results.flatMap((r) => {
      const v = f(r);
      return v === undefined ? [] : [[r.files, v] as [number, number]];
    });
  return lineChartSvg('parquet full refresh: time vs files (log–log, lower is better)', [
    { name: 'lakemap, warm', color: '#1f77b4', points: pts((r) => r.warm.lakemapFullMs) },
    { name: 'DuckDB best, warm', color: '#d62728', points: pts((r) => r.warm.duckdbBestMs) },
    { name: 'Node sync floor, warm', color: '#7f7f7f', points: pts((r) => r.warm.nodeSyncFloorMs) },
    { name: 'lakemap, cold', color: '#1f77b4', dashed: true, points: pts((r) => r.cold?.lakemapFullMs) },
    { name: 'DuckDB best, cold', color: '#d62728', dashed: true, points: pts((r) => r.cold?.duckdbBestMs) },
    { name: 'Node sync floor, cold', color: '#7f7f7f', dashed: true, points: pts((r) => r.cold?.nodeSyncFloorMs) },
  ].filter((s) => s.points.length > 0));
}

const results: Record<string, unknown> = {};
const ctx: BenchContext = { log, withParquetLake };
for (const b of benches) {
  if (b.large && !large) continue;
  if (only && !only.includes(b.name)) continue;
  log(`\n## ${b.name}`);
  results[b.name] = await b.run(ctx);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, '..', '..', 'bench', 'results');
fs.mkdirSync(outDir, { recursive: true });
const doc = {
  date: new Date().toISOString(),
  machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', node: process.version, loadavg: os.loadavg() },
  results,
};
fs.writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
const refresh = results.refresh as RefreshBenchResult[] | undefined;
if (refresh?.length) fs.writeFileSync(path.join(outDir, 'latest.svg'), chart(refresh));
log(`\nwrote ${path.relative(process.cwd(), outDir)}/latest.json${refresh?.length ? ' and latest.svg' : ''}`);
if (process.env.LAKEMAP_BENCH_PUBLISH === '1') {
  const docs = path.join(here, '..', '..', 'docs', 'benchmarks');
  fs.mkdirSync(docs, { recursive: true });
  fs.copyFileSync(path.join(outDir, 'latest.json'), path.join(docs, 'results.json'));
  if (refresh?.length) fs.copyFileSync(path.join(outDir, 'latest.svg'), path.join(docs, 'chart.svg'));
  log(`published to ${path.relative(process.cwd(), docs)}/`);
}

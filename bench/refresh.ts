/**
 * Parquet refresh benchmark: lakemap's full, 1%-touched and no-change refreshes against DuckDB at its
 * best and the bare Node I/O floor, on the same lake, warm and (as root) cold page cache.
 *
 * DuckDB at its best: a fresh instance per measured query (its caches start empty, as lakemap's fresh
 * engine does), once with its external file cache on (the default) and once off; the faster is the
 * baseline and both are reported.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeManyParquetFiles } from '../fixtures/parquet/index.js';

/** One lake size's figures (milliseconds unless named otherwise). */
export interface RefreshBenchResult {
  files: number;
  rows: number;
  footerBytes: number;
  warm: ColdOrWarm;
  /** Absent when the page cache could not be dropped (not root, or no /proc/sys/vm/drop_caches). */
  cold?: ColdOrWarm;
  /** Why `cold` is absent. */
  coldSkipped?: string;
  touch1pct: { files: number; ms: number; bytesWritten: number; fullBytesWritten: number };
  /** The same files touched again, refreshed with their paths as `changedPaths` (the source is not listed). */
  touch1pctHinted: { files: number; ms: number; bytesWritten: number };
  noChange: { inProcessMs: number; newEngineMs: number; cliMs: number };
  rssMiB: { cliFullRefresh: number; cliShowJson: number };
}

/** Timings of one cache state. */
export interface ColdOrWarm {
  nodeSyncFloorMs: number;
  duckdbCacheOnMs: number;
  duckdbCacheOffMs: number;
  /** The faster of the two DuckDB configurations. */
  duckdbBestMs: number;
  lakemapFullMs: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'src', 'cli', 'bin.js');
const RSS_PRELOAD = path.join(here, 'rss-preload.js');

/** Drops the page cache; returns why not when it cannot. */
export function dropPageCache(): string | undefined {
  try {
    spawnSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return undefined;
  } catch (e) {
    return `cannot drop the page cache (${(e as NodeJS.ErrnoException).code ?? String(e)}): needs root and /proc/sys/vm/drop_caches`;
  }
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Open, fstat, read the 8-byte trailer, read the footer, close: the least any footer reader must do. */
export function footerLoopSync(files: string[]): number {
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

/** DuckDB's `parquet_file_metadata` over the lake in a fresh in-memory instance; returns ms of the query alone. */
async function duckdbMetadata(dir: string, files: number, cache: boolean): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    if (!cache) await con.run('SET enable_external_file_cache=false');
    const glob = `'${path.join(dir, '**', '*.parquet').replace(/'/g, "''")}'`;
    let n = 0;
    const ms = await time(async () => {
      const reader = await con.runAndReadAll(`SELECT count(*) AS n, sum(num_rows) AS r FROM parquet_file_metadata(${glob})`);
      n = Number(reader.getRowObjectsJson()[0]!.n);
    });
    if (n !== files) throw new Error(`DuckDB saw ${n} files, expected ${files}`);
    return ms;
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Best of `runs`, each preceded by `before` (e.g. dropping the page cache). */
async function best(runs: number, fn: () => Promise<number>, before?: () => void): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    before?.();
    min = Math.min(min, await fn());
  }
  return min;
}

async function fullRefreshMs(dir: string, files: number): Promise<number> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-root-'));
  try {
    const engine = new RefreshEngine({ root });
    await engine.createCollection({ collectionName: 'bench', externalSource: dir, externalSpec: { format: 'parquet' } });
    let n = 0;
    const ms = await time(async () => {
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'bench' })).jobId);
      if (info.state !== 'RefreshCompleted') throw new Error(info.reason);
      n = info.filesTotal;
    });
    if (n !== files) throw new Error(`refresh saw ${n} files, expected ${files}`);
    return ms;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Bytes under `dir` (recursively). */
function dirBytes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = path.join(e.parentPath, e.name);
      out.set(p, fs.statSync(p).size);
    }
  }
  return out;
}

/** Bytes of files that are new or changed in `after` compared with `before`. */
function bytesWritten(before: Map<string, number>, after: Map<string, number>): number {
  let n = 0;
  for (const [p, size] of after) if (before.get(p) !== size) n += size;
  return n;
}

/** Runs the `lakemap` CLI in a child process; returns wall ms and the child's peak RSS (MiB). */
function cli(args: string[]): { ms: number; rssMiB: number; stdoutBytes: number } {
  const rssFile = path.join(os.tmpdir(), `lakemap-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', pathToUrl(RSS_PRELOAD), CLI, ...args], {
    env: { ...process.env, LAKEMAP_BENCH_RSS_FILE: rssFile },
    maxBuffer: 2 ** 31 - 1,
    encoding: 'buffer',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`lakemap ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString()}`);
  const kib = Number(fs.readFileSync(rssFile, 'utf8'));
  fs.rmSync(rssFile, { force: true });
  return { ms, rssMiB: kib / 1024, stdoutBytes: r.stdout.length };
}

function pathToUrl(p: string): string {
  return new URL(`file://${p}`).href;
}

/**
 * Writes a lake of `files` small parquet files and measures every case on it.
 *
 * @example
 * ```ts
 * const r = await refreshBench(10_000, console.log);
 * ```
 */
export async function refreshBench(files: number, log: (line: string) => void, cold = true): Promise<RefreshBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-lake-'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-bench-root-'));
  try {
    const lake = await writeManyParquetFiles(dir, files);
    const abs = lake.paths.map((p) => path.join(dir, p));
    const head = fs.readFileSync(abs[0]!);
    const footerBytes = head.readUInt32LE(head.length - 8);
    const runs = files >= 50_000 ? 2 : 3;
    log(`parquet lake: ${files.toLocaleString('en-US')} files, ${lake.rows.toLocaleString('en-US')} rows, ${footerBytes}-byte footers`);

    // LAKEMAP_BENCH_REFRESH_QUICK=1: lakemap's full refresh once, no floor or DuckDB (their figures NaN),
    // for measuring the incremental paths on a lake size where the peers take minutes.
    const quick = process.env.LAKEMAP_BENCH_REFRESH_QUICK === '1';
    const measure = async (before?: () => void): Promise<ColdOrWarm> => {
      if (quick) return { nodeSyncFloorMs: NaN, duckdbCacheOnMs: NaN, duckdbCacheOffMs: NaN, duckdbBestMs: NaN, lakemapFullMs: await best(1, () => fullRefreshMs(dir, files), before) };
      const nodeSyncFloorMs = await best(runs, async () => time(() => footerLoopSync(abs)), before);
      const duckdbCacheOnMs = await best(runs, () => duckdbMetadata(dir, files, true), before);
      const duckdbCacheOffMs = await best(runs, () => duckdbMetadata(dir, files, false), before);
      const lakemapFullMs = await best(runs, () => fullRefreshMs(dir, files), before);
      return { nodeSyncFloorMs, duckdbCacheOnMs, duckdbCacheOffMs, duckdbBestMs: Math.min(duckdbCacheOnMs, duckdbCacheOffMs), lakemapFullMs };
    };
    footerLoopSync(abs); // warm the page cache
    const warm = await measure();
    let coldRes: ColdOrWarm | undefined;
    let coldSkipped: string | undefined = cold ? dropPageCache() : 'not requested';
    if (coldSkipped === undefined) coldRes = await measure(() => void dropPageCache());
    footerLoopSync(abs);

    // The CLI's full refresh (peak RSS of a fresh process), then its no-change refresh and `show --json`.
    const base = ['--root', root];
    cli(['create', 'bench', '--source', dir, '--format', 'parquet', ...base]);
    const before = dirBytes(root);
    const cliFull = cli(['refresh', 'bench', ...base]);
    const afterFull = dirBytes(root);
    const fullBytesWritten = bytesWritten(before, afterFull);
    const cliSame = cli(['refresh', 'bench', ...base]);
    const show = cli(['show', 'bench', '--json', ...base]);

    // 1% of the files touched (mtime moved), then refreshed by an engine that already holds the manifest.
    const engine = new RefreshEngine({ root });
    const refresh = async (changedPaths?: string[]): Promise<void> => {
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'bench', ...(changedPaths ? { changedPaths } : {}) })).jobId);
      if (info.state !== 'RefreshCompleted') throw new Error(info.reason);
      if (changedPaths && info.hint?.listing !== 'hinted') throw new Error(`the hinted refresh listed the whole source: ${info.hint?.reason}`);
    };
    const newEngineMs = await time(refresh);
    const inProcessMs = Math.min(await time(refresh), await time(refresh));
    const touched = abs.filter((_, i) => i % 100 === 37);
    const later = new Date(Date.now() + 60_000);
    for (const f of touched) fs.utimesSync(f, later, later);
    const beforeTouch = dirBytes(root);
    const touchMs = await time(refresh);
    const touchBytes = bytesWritten(beforeTouch, dirBytes(root));

    // The same files touched again, refreshed with their paths as the hint (as a watch or a pipeline gives them).
    const again = new Date(Date.now() + 120_000);
    for (const f of touched) fs.utimesSync(f, again, again);
    const hint = lake.paths.filter((_, i) => i % 100 === 37);
    const beforeHinted = dirBytes(root);
    const hintedMs = await time(() => refresh(hint));
    const hintedBytes = bytesWritten(beforeHinted, dirBytes(root));

    return {
      files,
      rows: lake.rows,
      footerBytes,
      warm,
      ...(coldRes ? { cold: coldRes } : {}),
      ...(coldSkipped ? { coldSkipped } : {}),
      touch1pct: { files: touched.length, ms: touchMs, bytesWritten: touchBytes, fullBytesWritten },
      touch1pctHinted: { files: hint.length, ms: hintedMs, bytesWritten: hintedBytes },
      noChange: { inProcessMs, newEngineMs, cliMs: cliSame.ms },
      rssMiB: { cliFullRefresh: cliFull.rssMiB, cliShowJson: show.rssMiB },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Read benchmark (issue 14): one segment of 524,288 rows — row groups 4–7 of a 2M-row DuckDB-written
 * file (id, name, score, ts, vec FLOAT[128]), snappy and zstd — read all columns and `id`+`vec`,
 * by lakemap, DuckDB node-api → Arrow, DuckDB's engine alone, parquet-wasm, and the floor (read the
 * column chunks into one reused buffer and decompress every page with lakemap's codecs into memory
 * of its own, as any output must be; no decoding). Each case runs in its own process so its peak RSS
 * is its own; page cache warm; one core per process; every consumer drops each batch after use.
 *
 * "Beyond output" is peak RSS minus the process's RSS just before reading minus the largest output it
 * held at once (one batch for the streaming readers, the whole table for parquet-wasm), in units of
 * one row group's decoded bytes (lakemap's batch for a whole row group, buffers counted whole).
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeData, tableFromIPC, vectorFromArray, Utf8, Struct, type Data, type RecordBatch } from 'apache-arrow';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeVectorParquet } from '../fixtures/read/vectors.js';
import { sqlString } from '../fixtures/parquet/duckdb.js';
import { SourceFile } from '../src/read/source-file.js';
import { readFooter } from '../src/read/parquet/footer.js';
import { readPageHeader, PageType } from '../src/read/parquet/page-header.js';
import { decompressors, zstdImplementation } from '../src/read/decompress.js';

const ROWS = Number(process.env.LAKEMAP_BENCH_READ_ROWS ?? 2_097_152);
/** Where to keep the written files between runs (default: a temporary folder removed after the run). */
const KEEP = process.env.LAKEMAP_BENCH_READ_DIR;
const GROUP = ROWS / 16;
const FIRST_GROUP = 4;
const GROUPS = 4;
const CASES = ['floor', 'lakemap', 'duckdb-arrow', 'duckdb-engine', 'parquet-wasm'] as const;
type Case = (typeof CASES)[number];

interface CaseResult {
  rows: number;
  ms: number;
  maxRssMiB: number;
  /** RSS just before reading. */
  startRssMiB: number;
  /** Largest output held at once (bytes of the buffers behind it). */
  outputMiB: number;
}

const MiB = 1024 * 1024;

/** Runs every case on both codecs and both column sets; logs a table and a JSON line. */
export async function readBench(log: (line: string) => void): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-read-bench-'));
  const results: Record<string, unknown>[] = [];
  try {
    log(`segment: ${(GROUP * GROUPS).toLocaleString('en-US')} rows = row groups ${FIRST_GROUP}–${FIRST_GROUP + GROUPS - 1} of a ${ROWS.toLocaleString('en-US')}-row file; zstd via ${zstdImplementation}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    log('| codec | columns | reader | rows/s | ms | vs floor | peak RSS MiB | RSS before MiB | output held MiB | beyond output (row groups) |');
    log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const codec of ['snappy', 'zstd'] as const) {
      const dir = path.join(KEEP ?? tmp, `${codec}-${ROWS}`);
      const file = path.join(dir, 'v.parquet');
      if (!KEEP || !fs.existsSync(file)) await writeVectorParquet(file, { rows: ROWS, rowGroupSize: GROUP, dim: 128, codec });
      const root = path.join(tmp, `root-${codec}`);
      const engine = new RefreshEngine({ root, workers: 0 });
      await engine.createCollection({ collectionName: 'b', externalSource: dir, externalSpec: { format: 'parquet', segment_max_rows: GROUP * GROUPS } });
      await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'b' })).jobId);
      fs.readFileSync(file); // warm the page cache
      for (const columns of ['id,name,score,ts,vec', 'id,vec']) {
        let floor = 0;
        let groupMiB = 0; // one row group decoded: lakemap's batch (CASES runs floor, then lakemap first)
        for (const c of CASES) {
          const r = runCase(c, { file, root, columns });
          if (!r) {
            log(`| ${codec} | ${columns} | ${c} | failed | | | | | | |`);
            continue;
          }
          if (r.rows !== GROUP * GROUPS) throw new Error(`${c} read ${r.rows} rows, expected ${GROUP * GROUPS}`);
          const rate = (r.rows / r.ms) * 1000;
          if (c === 'floor') floor = rate;
          if (c === 'lakemap') groupMiB = r.outputMiB;
          const beyond = groupMiB ? (r.maxRssMiB - r.startRssMiB - r.outputMiB) / groupMiB : undefined;
          results.push({
            codec, columns, reader: c, rowsPerSec: Math.round(rate), ms: Math.round(r.ms), vsFloor: floor ? rate / floor : undefined,
            maxRssMiB: r.maxRssMiB, startRssMiB: r.startRssMiB, outputMiB: r.outputMiB, beyondOutputRowGroups: beyond, rowGroupMiB: groupMiB || undefined,
          });
          log(`| ${codec} | ${columns} | ${c} | ${Math.round(rate).toLocaleString('en-US')} | ${r.ms.toFixed(0)} | ${floor ? `${((rate / floor) * 100).toFixed(0)}%` : ''} | ${r.maxRssMiB} | ${r.startRssMiB.toFixed(0)} | ${r.outputMiB.toFixed(0)} | ${beyond === undefined ? '' : beyond.toFixed(1)} |`);
        }
      }
      if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
    }
    log(`JSON ${JSON.stringify({ bench: 'read', rows: GROUP * GROUPS, results })}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function runCase(c: Case, args: { file: string; root: string; columns: string }): CaseResult | undefined {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, [self, c, args.file, args.root, args.columns], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    process.stderr.write(`${c} failed: ${out.stderr.slice(0, 2000)}\n`);
    return undefined;
  }
  return JSON.parse(line.slice(7)) as CaseResult;
}

async function runInChild(c: Case, file: string, root: string, columns: string[]): Promise<void> {
  const lo = FIRST_GROUP * GROUP;
  const n = GROUPS * GROUP;
  let rows = 0;
  let t0 = 0;
  let startRss = 0;
  let output = 0; // largest output held at once, bytes
  const start = (): void => {
    startRss = process.memoryUsage().rss;
    t0 = performance.now();
  };
  if (c === 'lakemap') {
    const engine = new RefreshEngine({ root, workers: 0 });
    const m = await engine.getManifest({ collectionName: 'b' });
    const seg = m.segments.find((s) => s.ranges[0]!.rowOffset === lo)!;
    start();
    for await (const b of engine.readSegment({ collectionName: 'b', segmentId: seg.id, columns })) {
      rows += b.numRows;
      output = Math.max(output, heldBytes(b));
    }
  } else if (c === 'duckdb-arrow' || c === 'duckdb-engine') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    const where = `FROM read_parquet(${sqlString(file)}, file_row_number = true) WHERE file_row_number >= ${lo} AND file_row_number < ${lo + n}`;
    start();
    if (c === 'duckdb-engine') {
      const aggs = columns.map((col) => (col === 'vec' ? 'max(vec[128])' : `max(${col})`)).join(', ');
      await con.run(`SELECT count(*), ${aggs} ${where}`);
      rows = n;
    } else {
      const result = await con.stream(`SELECT ${columns.join(', ')} ${where}`);
      for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        const children: Data[] = columns.map((_, i) => duckColumnToArrow(chunk.getColumnVector(i), chunk.rowCount));
        makeData({ type: new Struct([]), length: chunk.rowCount, nullCount: 0, children: [] });
        if (children.length !== columns.length) throw new Error('a column is missing');
        output = Math.max(output, children.reduce((a, d) => a + dataBytes(d, new Set()), 0));
        rows += chunk.rowCount;
      }
    }
  } else if (c === 'parquet-wasm') {
    const pw = await import('parquet-wasm');
    start();
    const bytes = fs.readFileSync(file);
    const groups = Array.from({ length: GROUPS }, (_, i) => FIRST_GROUP + i);
    const table = pw.readParquet(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { rowGroups: groups, columns });
    const arrow = tableFromIPC(table.intoIPCStream());
    rows = arrow.numRows;
    const seen = new Set<ArrayBufferLike>(); // the batches share the IPC stream's buffers
    output = arrow.batches.reduce((a, b) => a + dataBytes(b.data, seen), 0);
  } else {
    start();
    rows = floorRead(file, columns, FIRST_GROUP, GROUPS);
  }
  const ms = performance.now() - t0;
  const result: CaseResult = { rows, ms, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), startRssMiB: Math.round((startRss / MiB) * 10) / 10, outputMiB: Math.round((output / MiB) * 10) / 10 };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** Bytes of the buffers behind a batch, each counted whole (a view holds its entire buffer alive). */
function heldBytes(b: RecordBatch): number {
  return dataBytes(b.data, new Set());
}

function dataBytes(d: Data, seen: Set<ArrayBufferLike>): number {
  let total = 0;
  for (const a of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as (ArrayBufferView | undefined)[]) {
    if (!a || seen.has(a.buffer)) continue;
    seen.add(a.buffer);
    total += a.buffer.byteLength;
  }
  for (const child of d.children) total += dataBytes(child, seen);
  return total;
}

/** DuckDB's vectors into Arrow data: typed items copied, strings through Arrow's builder. */
function duckColumnToArrow(v: unknown, n: number): Data {
  const vec = v as { items?: ArrayLike<unknown>; childData?: { items?: Float32Array }; getItem(i: number): unknown };
  if (vec.childData?.items) return vectorFromArray(vec.childData.items.slice(0, n * 128)).data[0]!;
  if (vec.items && ArrayBuffer.isView(vec.items)) return vectorFromArray((vec.items as unknown as Float64Array).slice(0, n)).data[0]!;
  const values: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) values[i] = vec.getItem(i);
  if (typeof values.find((x) => x !== null) === 'string') return vectorFromArray(values as string[], new Utf8()).data[0]!;
  return vectorFromArray(values.map((x) => (x === null ? null : Number((x as { micros?: bigint }).micros ?? x)))).data[0]!;
}

/**
 * The floor: read each column chunk of the row groups (into one reused buffer) and decompress every
 * page into memory of its own (what an output needs); decode nothing.
 */
function floorRead(file: string, columns: string[], first: number, count: number): number {
  const f = new SourceFile(file, path.basename(file));
  try {
    const footer = readFooter(f);
    const wanted = new Set(columns);
    const scratch = { buffer: new Uint8Array(0) };
    let rows = 0;
    for (let g = first; g < first + count; g++) {
      const rg = footer.rowGroups[g]!;
      for (const chunk of rg.columns) {
        if (!wanted.has(chunk.path[0]!)) continue;
        const bytes = f.read(chunk.start, chunk.length, 'chunk', scratch);
        let pos = 0;
        while (pos < bytes.length) {
          const h = readPageHeader(bytes, pos, bytes.length);
          const raw = bytes.subarray(h.dataStart, h.dataStart + h.compressedSize);
          pos = h.dataStart + h.compressedSize;
          const d = decompressors[chunk.codec];
          if (!d) continue;
          if (h.type === PageType.DATA_PAGE_V2) {
            const lv = h.repLength + h.defLength;
            if (h.compressed) d(raw.subarray(lv), h.uncompressedSize - lv);
          } else d(raw, h.uncompressedSize);
        }
      }
      rows += rg.numRows;
    }
    return rows;
  } finally {
    f.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.length > 2) {
  const [c, file, root, cols] = process.argv.slice(2) as [Case, string, string, string];
  await runInChild(c, file, root, cols.split(','));
}

/**
 * Lance read benchmark (issue 14): one segment = one fragment of 524,288 rows (`id` Int64, `vec`
 * FixedSizeList<128, Float32>) between two fragments with deletions, read by lakemap
 * (`engine.readSegment`, which takes `_rowaddr` bounds here; and forced onto offset/limit, its path for
 * datasets of many small fragments) and by lancedb's own query of the same rows (offset/limit, and
 * `_rowaddr` bounds), iterated with lancedb's public API. Each case runs in its own process so its peak
 * RSS is its own; page cache warm.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lancedb from '@lancedb/lancedb';
import { RefreshEngine } from '../src/engine/engine.js';
import { readLanceSegments } from '../src/read/lance.js';

const ROWS = Number(process.env.LAKEMAP_BENCH_READ_LANCE_ROWS ?? 524_288);
const SIDE = 50_000; // rows of the fragments before and after, each with deletions
const DIM = 128;
const CASES = ['lakemap', 'lakemap-offset', 'lancedb-offset', 'lancedb-rowaddr'] as const;
type Case = (typeof CASES)[number];
const RUNS = 3;

/** Builds a table of `n` rows from `start` with lancedb's own (CommonJS) apache-arrow, which it requires. */
function table(start: number, n: number): unknown {
  const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
  const ids = new BigInt64Array(n);
  const vec = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(start + i);
    for (let j = 0; j < DIM; j++) vec[i * DIM + j] = (start + i) * 0.001 + j;
  }
  const item = new arrow.Field('item', new arrow.Float32(), true);
  const child = arrow.makeData({ type: new arrow.Float32(), length: n * DIM, data: vec });
  const vecData = arrow.makeData({ type: new arrow.FixedSizeList(DIM, item), length: n, nullCount: 0, child });
  return new arrow.Table({ id: arrow.makeVector(ids), vec: arrow.makeVector(vecData) });
}

/** Writes the dataset, maps it, runs each case best of {@link RUNS}; logs a table and a JSON line. */
export async function readLanceBench(log: (line: string) => void): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-read-lance-bench-'));
  try {
    const lake = path.join(tmp, 'lake');
    const t = await (await lancedb.connect(lake)).createTable('b', table(0, SIDE) as never);
    await t.add(table(SIDE, ROWS) as never);
    await t.add(table(SIDE + ROWS, SIDE) as never);
    await t.delete(`id % 10 = 3 AND (id < ${SIDE} OR id >= ${SIDE + ROWS})`);
    const root = path.join(tmp, 'root');
    const engine = new RefreshEngine({ root, workers: 0 });
    await engine.createCollection({ collectionName: 'b', externalSource: path.join(lake, 'b.lance'), externalSpec: { format: 'lance-table' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'b' })).jobId);
    if (info.state !== 'RefreshCompleted') throw new Error(info.reason);
    log(`segment: fragment 1 of 3 = ${ROWS.toLocaleString('en-US')} rows (id Int64, vec FixedSizeList<${DIM}, Float32>), after ${SIDE.toLocaleString('en-US')} rows with deletions; best of ${RUNS}`);
    log('| reader | rows/s | ms | peak RSS MiB |');
    log('|---|---:|---:|---:|');
    const results: Record<string, unknown>[] = [];
    for (const c of CASES) {
      let best: { rows: number; ms: number; maxRssMiB: number } | undefined;
      for (let r = 0; r < RUNS; r++) {
        const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), c, lake, root], { encoding: 'utf8', maxBuffer: 1 << 20 });
        const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (!line) throw new Error(`${c} failed: ${out.stderr.slice(0, 2000)}`);
        const res = JSON.parse(line.slice(7)) as { rows: number; ms: number; maxRssMiB: number };
        if (res.rows !== ROWS) throw new Error(`${c} read ${res.rows} rows, expected ${ROWS}`);
        if (!best || res.ms < best.ms) best = res;
      }
      const rate = Math.round((best!.rows / best!.ms) * 1000);
      results.push({ reader: c, rowsPerSec: rate, ms: Math.round(best!.ms), maxRssMiB: best!.maxRssMiB });
      log(`| ${c} | ${rate.toLocaleString('en-US')} | ${best!.ms.toFixed(0)} | ${best!.maxRssMiB} |`);
    }
    log(`JSON ${JSON.stringify({ bench: 'read-lance', rows: ROWS, results })}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function runInChild(c: Case, lake: string, root: string): Promise<void> {
  let rows = 0;
  let t0 = 0;
  if (c === 'lakemap' || c === 'lakemap-offset') {
    const engine = new RefreshEngine({ root, workers: 0 });
    const m = await engine.getManifest({ collectionName: 'b' });
    const seg = m.segments[1]!;
    t0 = performance.now();
    const batches = c === 'lakemap' ? engine.readSegment({ collectionName: 'b', segmentId: seg.id }) : readLanceSegments(m, [seg.id], {}, 'offset');
    for await (const b of batches) rows += b.numRows;
  } else {
    // lancedb's connect dir is the bench's own lake dir (it holds lancedb's __manifest already)
    const t = await (await lancedb.connect(lake)).openTable('b');
    const before = await t.countRows(`id < ${SIDE}`);
    t0 = performance.now();
    const q = t.query().select(['id', 'vec']);
    const rowsOf = c === 'lancedb-offset' ? q.offset(before).limit(ROWS) : q.where(`_rowaddr >= ${1n << 32n} AND _rowaddr < ${(1n << 32n) + BigInt(ROWS)}`);
    for await (const b of rowsOf) rows += b.numRows;
  }
  const ms = performance.now() - t0;
  console.log(`RESULT ${JSON.stringify({ rows, ms, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.length > 2) {
  const [c, lake, root] = process.argv.slice(2) as [Case, string, string];
  await runInChild(c, lake, root);
}

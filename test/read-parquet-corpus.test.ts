// Reading rows over the real-world parquet corpus: for every file of data/ that DuckDB reads, each
// segment's rows (values and order) equal DuckDB's rows for that file and row range. Files lakemap
// does not decode must fail with a clear code, never return rows — and exactly the files listed in
// NOT_READ may do so.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from '../src/index.js';
import { arrowRows, duckCanon } from './helpers/canonical-rows.js';
import { tempDir } from './helpers/tmp.js';
import { sqlString } from '../fixtures/parquet/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpus/parquet/data');

/** Files DuckDB reads that lakemap refuses to read, with the code it must give. */
const NOT_READ: Record<string, string> = {
  // A dictionary page larger than the chunk's declared size (an old writer's bug DuckDB tolerates).
  'nation.dict-malformed.parquet': 'CORRUPT_FILE',
  // INT96 timestamps in year 9999 do not fit Arrow's nanosecond timestamps (refused, never wrapped).
  'int96_from_spark.parquet': 'UNSUPPORTED',
};

const files = fs.existsSync(DATA) ? fs.readdirSync(DATA).filter((f) => f.endsWith('.parquet')).sort() : [];

describe.skipIf(files.length === 0)('parquet corpus: segment rows equal DuckDB rows', () => {
  let engine: RefreshEngine;
  let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;
  const refused: Record<string, string> = {};
  beforeAll(async () => {
    engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  });
  afterAll(() => duck?.closeSync());

  for (const [n, name] of files.entries()) {
    it(name, async () => {
      const con = await duck.connect();
      let duckRows: Record<string, unknown>[] | undefined;
      try {
        const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path.join(DATA, name))})`);
        duckRows = r.getRowObjects() as Record<string, unknown>[];
      } catch {
        duckRows = undefined; // DuckDB refuses the file: we only require no crash below
      } finally {
        con.closeSync();
      }
      const collectionName = `f${n}`;
      await engine.createCollection({ collectionName, externalSource: DATA, externalSpec: { format: 'parquet', files: name } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
      if (info.state !== 'RefreshCompleted') {
        expect(duckRows === undefined || info.errorCode !== '').toBe(true);
        return;
      }
      const m = await engine.getManifest({ collectionName });
      let failure: LakemapError | undefined;
      const got: RecordBatch[][] = [];
      try {
        for (const s of m.segments) {
          const batches: RecordBatch[] = [];
          for await (const b of engine.readSegment({ collectionName, segmentId: s.id })) batches.push(b);
          got.push(batches);
        }
      } catch (e) {
        if (!(e instanceof LakemapError)) throw e;
        failure = e;
      }
      if (duckRows === undefined) return; // mapped though DuckDB refuses: reading may fail or not
      if (failure) {
        refused[name] = failure.code;
        expect(failure.code, `${name}: ${failure.message}`).toBe(NOT_READ[name] ?? 'read');
        expect(failure.message).toContain(name);
        return;
      }
      expect(NOT_READ[name], `${name} is listed as not read but was read`).toBeUndefined();
      const segments = m.segments;
      expect(segments.reduce((a, s) => a + s.rows, 0)).toBe(duckRows.length);
      for (const [k, s] of segments.entries()) {
        const range = s.ranges[0]!;
        const want = duckRows.slice(range.rowOffset, range.rowOffset + range.rows).map((row) => {
          const o: Record<string, unknown> = {};
          for (const [key, v] of Object.entries(row)) o[key] = duckCanon(v);
          return o;
        });
        const rows = arrowRows(got[k]!);
        const bad = firstDifference(rows, want);
        expect(bad, `${name} segment ${k}`).toBeUndefined();
        expect(rows).toEqual(want);
      }
    }, 600_000); // a hang guard: large_string_map (a 1 GiB string) took 119 s of a former 240 s limit on a loaded 2-core machine
  }

  it('refuses exactly the files listed as not read', () => {
    expect(Object.keys(refused).sort()).toEqual(Object.keys(NOT_READ).sort());
  });
});

/** The first differing row and column, readable in a failure message. */
function firstDifference(got: Record<string, unknown>[], want: Record<string, unknown>[]): string | undefined {
  if (got.length !== want.length) return `${got.length} rows, DuckDB has ${want.length}`;
  for (let r = 0; r < got.length; r++) {
    for (const k of new Set([...Object.keys(want[r]!), ...Object.keys(got[r]!)])) {
      const a = JSON.stringify(got[r]![k]);
      const b = JSON.stringify(want[r]![k]);
      if (a !== b) return `row ${r} column ${k}: lakemap ${a?.slice(0, 200)}, DuckDB ${b?.slice(0, 200)}`;
    }
  }
  return undefined;
}

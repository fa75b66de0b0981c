// Equality deletes on the real tables of the corpus: for every table with equality delete files, each
// data file's rows read by lakemap (values, in order) equal the oracle's live rows: DuckDB reading the data
// and delete parquet files directly, with the delete files chosen from the manifests by plain avsc (sequence
// numbers strictly greater, same partition or an unpartitioned delete) and applied by an anti-join on the
// equality columns, matched by field id, with `IS NOT DISTINCT FROM` (NULL equals NULL).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, manifestArrowSchema } from '../src/index.js';
import { arrowRows, duckCanon, type Canon } from './helpers/canonical-rows.js';
import { icebergOracle } from './helpers/iceberg-oracle.js';
import { tempDir } from './helpers/tmp.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpus/iceberg');

// Every corpus table whose current snapshot has equality delete files (the scanner counts them; the
// last test checks the list is complete against that count).
const TABLES = [
  'equality_delete_cross_partition/warehouse/ns/t',
  'equality_delete_extra_column/warehouse/ns/t',
  'equality_deletes/warehouse/mydb/mytable',
  'equality_deletes/warehouse/mydb/mytable_partitioned',
  'icebird/java/bunnies',
];

const have = fs.existsSync(corpus);
const checked: Record<string, { files: number; rows: number; live: number }> = {};

describe.skipIf(!have)('iceberg corpus: equality deletes applied as DuckDB applies them', () => {
  let engine: RefreshEngine;
  let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;
  let con: DuckDBConnection;
  beforeAll(async () => {
    engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    duck = await DuckDBInstance.create(':memory:', { threads: '1' });
    con = await duck.connect();
  });
  afterAll(() => {
    con?.closeSync();
    duck?.closeSync();
  });

  for (const [n, rel] of TABLES.entries()) {
    it(rel, async () => {
      const dir = path.join(corpus, rel);
      const collectionName = `eq${n}`;
      await engine.createCollection({ collectionName, externalSource: dir, externalSpec: { format: 'iceberg-table' } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
      expect(info.state, info.reason).toBe('RefreshCompleted');
      const m = await engine.getManifest({ collectionName });
      const details = m.details as { metadataFile: string; snapshotId: string; deleteFiles: { equality: number } };
      expect(details.deleteFiles.equality).toBeGreaterThan(0);
      const fieldIds = manifestArrowSchema(m).fields.map((f) => Number(f.metadata.get('PARQUET:field_id')));
      const oracle = await icebergOracle(con, dir, details.metadataFile, details.snapshotId, [dir, corpus], { fieldIds });
      const stats = { files: 0, rows: 0, live: 0 };
      for (const file of m.files) {
        const want = oracle.find((o) => o.path === file.path);
        expect(want?.liveRowsSql, file.path).toBeDefined();
        const batches: RecordBatch[] = [];
        for (const s of m.segments.filter((x) => x.ranges[0]!.path === file.path)) {
          for await (const b of engine.readSegment({ collectionName, segmentId: s.id })) batches.push(b);
        }
        const got = arrowRows(batches).map((r) => Object.values(r));
        const rows = (await con.runAndReadAll(want!.liveRowsSql!)).getRows().map((r) => r.map((v) => duckCanon(v))) as Canon[][];
        expect(got, file.path).toEqual(rows);
        // the scanner records an upper bound, never less than what is read
        expect(file.liveRows ?? file.rows).toBeGreaterThanOrEqual(got.length);
        if ((file.details?.['deletes'] as { kind: string }[]).some((d) => d.kind === 'equality')) expect(file.liveRowsExact).toBe(false);
        stats.files++;
        stats.rows += file.rows;
        stats.live += got.length;
      }
      checked[rel] = stats;
    });
  }

  it('read every listed table and deleted rows in each', () => {
    expect(Object.keys(checked).sort()).toEqual([...TABLES].sort());
    for (const [rel, s] of Object.entries(checked)) expect(s.live, rel).toBeLessThan(s.rows);
  });
});

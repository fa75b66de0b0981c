// Reading Iceberg tables of the corpus: each data file's rows equal DuckDB's reading of that parquet
// file (columns matched by field id) minus the positions its position delete files (read by DuckDB too)
// name; deletion vectors leave exactly the manifest's live rows. Data files with equality deletes are
// compared in read-iceberg-equality-corpus.test.ts (rows against DuckDB's anti-join).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine, manifestArrowSchema } from '../src/index.js';
import { sqlString } from '../fixtures/parquet/index.js';
import { arrowRows, duckCanon, type Canon } from './helpers/canonical-rows.js';
import { tempDir } from './helpers/tmp.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpus/iceberg');

function tables(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === 'metadata') out.push(path.relative(corpus, dir));
      else walk(path.join(dir, e.name));
    }
  };
  walk(corpus);
  return out.sort();
}

const all = fs.existsSync(corpus) ? tables() : [];
const outcomes: Record<string, string> = {};

describe.skipIf(all.length === 0)('iceberg corpus: live rows of each data file', () => {
  let engine: RefreshEngine;
  let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;
  beforeAll(async () => {
    engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    duck = await DuckDBInstance.create(':memory:', { threads: '1' });
  });
  afterAll(() => duck?.closeSync());


  for (const [n, rel] of all.entries()) {
    it(rel, async () => {
      const dir = path.join(corpus, rel);
      const collectionName = `t${n}`;
      await engine.createCollection({ collectionName, externalSource: dir, externalSpec: { format: 'iceberg-table' } });
      const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
      if (info.state !== 'RefreshCompleted') {
        outcomes[rel] = `not mapped: ${info.errorCode}`;
        expect(info.errorCode).not.toBe('');
        return;
      }
      const m = await engine.getManifest({ collectionName });
      let checked = 0;
      for (const s of m.segments) {
        const file = m.files.find((f) => f.path === s.ranges[0]!.path)!;
        const batches: RecordBatch[] = [];
        try {
          for await (const b of engine.readSegment({ collectionName, segmentId: s.id })) batches.push(b);
        } catch (e) {
          expect(e).toBeInstanceOf(LakemapError);
          const err = e as LakemapError;
          outcomes[rel] = `${err.code}: ${err.message.slice(0, 160)}`;
          return;
        }
        const got = arrowRows(batches);
        expect(got.length).toBe(file.liveRowsExact ? file.liveRows : got.length);
        const deletes = (file.details?.['deletes'] as { kind: string; path: string }[] | undefined) ?? [];
        if (deletes.some((d) => d.kind === 'equality')) {
          checked++; // compared with DuckDB's anti-join in read-iceberg-equality-corpus.test.ts
          continue;
        }
        const con = await duck.connect();
        try {
          const names = m.schema.fields.map((f) => f.name);
          // Columns by Iceberg field id (names may be sanitized or renamed in older files); NULL where the file lacks one.
          const byId = new Map(((await con.runAndReadAll(`SELECT name, field_id FROM parquet_schema(${sqlString(path.join(dir, file.path))}) WHERE field_id IS NOT NULL`)).getRowObjects()).map((r) => [String(r['field_id']), String(r['name'])]));
          const fileCols = byId.size === 0 ? names : manifestArrowSchema(m).fields.map((f) => byId.get(f.metadata.get('PARQUET:field_id')!));
          // DuckDB resolves names case-insensitively: with names differing only in case, take the file's columns in order
          const cols = new Set(names.map((x) => x.toLowerCase())).size === names.length ? fileCols.map((x) => (x === undefined ? 'NULL' : `"${x}"`)).join(', ') : '* EXCLUDE (file_row_number)';
          let sql = `SELECT ${cols} FROM read_parquet(${sqlString(path.join(dir, file.path))}, file_row_number = true)`;
          const positional = deletes.filter((d) => d.kind === 'position');
          if (positional.length > 0) {
            const dels = positional.map((d) => `SELECT pos FROM read_parquet(${sqlString(path.join(dir, d.path))}) WHERE file_path = ${sqlString(file.path)} OR file_path LIKE ${sqlString(`%/${file.path}`)}`);
            sql += ` WHERE file_row_number NOT IN (${dels.join(' UNION ALL ')})`;
          }
          sql += ' ORDER BY file_row_number';
          const want = (await con.runAndReadAll(sql)).getRowObjects().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, duckCanon(v)]))) as Record<string, Canon>[];
          if (deletes.some((d) => d.kind === 'deletion-vector')) {
            // DuckDB cannot read Puffin: the kept rows are DuckDB's rows in order, as many as the manifest's live rows.
            expect(got.length).toBe(file.liveRows);
            let k = 0;
            for (const row of got) {
              while (k < want.length && JSON.stringify(want[k]) !== JSON.stringify(row)) k++;
              expect(k, `row ${JSON.stringify(row)} is not one of DuckDB's rows in order`).toBeLessThan(want.length);
              k++;
            }
          } else {
            // by position: DuckDB renames columns whose names differ only in case
            expect(got.map((r) => Object.values(r))).toEqual(want.map((r) => Object.values(r)));
          }
          checked++;
        } finally {
          con.closeSync();
        }
      }
      outcomes[rel] = `read ${checked} data files`;
    });
  }
  it('has read tables with and without deletion vectors, with equality deletes and renamed columns', () => {
    expect(Object.values(outcomes).filter((o) => o.startsWith('read ')).length).toBeGreaterThanOrEqual(10);
    expect(outcomes['legacy_bare_deletion_vector/warehouse/default/legacy_bare_deletion_vector']).toBe('read 1 data files');
    for (const t of ['equality_deletes/warehouse/mydb/mytable', 'equality_delete_cross_partition/warehouse/ns/t', 'icebird/java/bunnies', 'icebird/spark/rename_column']) {
      expect(outcomes[t]).toMatch(/^read /);
    }
  });
});

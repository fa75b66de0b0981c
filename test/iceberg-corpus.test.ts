// Conformance over real tables written by Spark, PyIceberg, Java Iceberg, Athena, BigQuery (../shared/corpus/iceberg).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LakemapError, type TableSnapshot } from '../src/scanner.js';
import { icebergScanner } from '../scanners/iceberg/index.js';
import { snapshotLocalTable } from './helpers/scan.js';
import { icebergOracle } from './helpers/iceberg-oracle.js';

const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/iceberg');
const present = fs.existsSync(corpus);

/** Tables that cannot map without an option, and why. */
const EXPECTED_FAILURES: Record<string, { code: string; message: RegExp }> = {
  // The data file lives in warehouse/example/, beside the table folder: refused, naming the option that maps it.
  'column_mapping/warehouse/default.db/my_table': {
    code: 'PATH_ESCAPE',
    message: /data\/persistent\/column_mapping\/warehouse\/example\/mock_data\.parquet lies outside the table folder \(2 folders above it.*spec key table_path/,
  },
  // Manifests name s3://fake-bucket/… files in a bucket that is not there.
  'generated_bounds': { code: 'NOT_FOUND', message: /s3:\/\/fake-bucket\/d\/0000000000\/t\.parquet cannot be mapped .*shares no folder with the table location/ },
};

/** Tables mapped only with spec options: the source is `source` (relative to the corpus), the spec adds `spec`. */
const WITH_OPTIONS: Record<string, { source: string; spec: Record<string, unknown> }> = {
  'column_mapping/warehouse/default.db/my_table': { source: 'column_mapping/warehouse', spec: { table_path: 'default.db/my_table' } },
};

let duckdb: { db: DuckDBInstance; con: DuckDBConnection } | undefined;
beforeAll(async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  duckdb = { db, con: await db.connect() };
});
afterAll(() => {
  duckdb?.con.closeSync();
  duckdb?.db.closeSync();
});

/**
 * Checks a mapped snapshot against DuckDB: every data file's rows as DuckDB counts them, and live rows
 * (exact where the scanner says exact, an upper bound otherwise) against DuckDB reading the data and
 * delete files. Returns how many data files had their live rows checked.
 */
async function checkAgainstDuckDB(s: TableSnapshot, tableDir: string, sourceDir: string): Promise<number> {
  const metadataFile = path.relative(tableDir, path.join(sourceDir, s.details!['metadataFile'] as string));
  const oracle = await icebergOracle(duckdb!.con, tableDir, metadataFile, s.tableVersion, [tableDir, sourceDir, corpus]);
  const rel = (p: string) => path.relative(tableDir, path.join(sourceDir, p)).split(path.sep).join('/');
  expect(s.entries.map((e) => rel(e.path)).sort()).toEqual(oracle.map((o) => o.path).sort());
  let live = 0;
  for (const o of oracle) {
    const e = s.entries.find((x) => rel(x.path) === o.path)!;
    expect(e.rows, `${o.path}: rows vs DuckDB`).toBe(o.duckdbRows);
    expect(o.records, `${o.path}: record_count vs DuckDB`).toBe(o.duckdbRows);
    if (o.liveRows === undefined) continue;
    live++;
    const mapped = e.liveRows ?? e.rows;
    if (e.liveRowsExact === false) expect(mapped, `${o.path}: live rows upper bound`).toBeGreaterThanOrEqual(o.liveRows);
    else expect(mapped, `${o.path}: exact live rows vs DuckDB`).toBe(o.liveRows);
  }
  return live;
}

function tables(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === 'metadata') out.push(path.relative(corpus, dir));
      else walk(path.join(dir, e.name));
    }
  };
  walk(corpus);
  return out.sort();
}

const summaryNumber = (s: Record<string, unknown>, k: string) => (typeof s[k] === 'string' ? Number(s[k]) : undefined);

/** The selected snapshot's summary, read straight from the metadata file the scanner chose. */
function summaryOf(dir: string, metadataFile: string, snapshotId: string): Record<string, unknown> {
  let bytes = fs.readFileSync(path.join(dir, metadataFile));
  if (bytes[0] === 0x1f) bytes = zlib.gunzipSync(bytes);
  // Quote snapshot ids before JSON.parse so they stay exact (independently of the scanner's parser).
  const meta = JSON.parse(bytes.toString().replace(/("snapshot-id"\s*:\s*)(-?\d+)/g, '$1"$2"')) as { snapshots?: { 'snapshot-id': string; summary?: Record<string, unknown> }[] };
  return meta.snapshots?.find((x) => x['snapshot-id'] === snapshotId)?.summary ?? {};
}

if (!present) {
  describe('iceberg-table corpus', () => {
    it('is present beside the checkout', () => {
      expect(fs.existsSync(corpus), `the Iceberg corpus is missing: ${corpus} does not exist`).toBe(true);
    });
  });
} else {
  describe('iceberg-table corpus conformance', () => {
    const all = tables();
    it('finds the corpus tables', () => {
      expect(all.length).toBeGreaterThanOrEqual(40);
    });

    for (const rel of all) {
      const dir = path.join(corpus, rel);
      const expectedFailure = EXPECTED_FAILURES[rel];
      if (expectedFailure) {
        it(`${rel} fails without options, with a reason naming the unmappable file`, async () => {
          const err = await snapshotLocalTable(icebergScanner, dir).then(() => undefined, (e: unknown) => e);
          expect(err).toBeInstanceOf(LakemapError);
          expect((err as LakemapError).code).toBe(expectedFailure.code);
          expect((err as LakemapError).message).toMatch(expectedFailure.message);
        });
      }
      const withOptions = WITH_OPTIONS[rel];
      if (withOptions) {
        it(`${rel} maps given ${JSON.stringify(withOptions.spec)}, and agrees with DuckDB`, async () => {
          const sourceDir = path.join(corpus, withOptions.source);
          const s = await snapshotLocalTable(icebergScanner, sourceDir, withOptions.spec);
          expect(s.entries.length).toBeGreaterThan(0);
          for (const e of s.entries) expect(fs.existsSync(path.join(sourceDir, e.path)), e.path).toBe(true);
          expect(await checkAgainstDuckDB(s, dir, sourceDir)).toBe(s.entries.length);
        });
      }
      if (expectedFailure) continue;
      it(`${rel} maps and agrees with its snapshot summary`, async () => {
        const s = await snapshotLocalTable(icebergScanner, dir);
        const details = s.details!;
        if (s.tableVersion === '') {
          expect(s.entries).toEqual([]);
          return;
        }
        const summary = summaryOf(dir, details['metadataFile'] as string, s.tableVersion);
        const rows = s.entries.reduce((a, e) => a + e.rows, 0);
        const totalRecords = summaryNumber(summary, 'total-records');
        const totalFiles = summaryNumber(summary, 'total-data-files');
        const totalDeletes = summaryNumber(summary, 'total-delete-files');
        if (totalRecords !== undefined) expect(rows).toBe(totalRecords);
        if (totalFiles !== undefined) expect(s.entries.length).toBe(totalFiles);
        const d = details['deleteFiles'] as Record<string, number>;
        if (totalDeletes !== undefined) expect(d['position']! + d['equality']! + d['deletionVectors']!).toBe(totalDeletes);
        expect(s.entries.length).toBeGreaterThan(0);
        for (const e of s.entries) {
          expect(e.path.startsWith('/')).toBe(false);
          expect(e.units.reduce((a, u) => a + u.rows, 0)).toBe(e.rows);
          // Where the corpus kept the data files, the mapped path is a real file (sizes differ: the
          // corpus copies were rewritten, so the metadata's file_size_in_bytes is what is reported).
          if (fs.existsSync(path.join(dir, 'data'))) expect(fs.existsSync(path.join(dir, e.path)), e.path).toBe(true);
          if (e.liveRows !== undefined) expect(e.liveRows).toBeLessThanOrEqual(e.rows);
        }
        expect(s.schema.fields.length).toBeGreaterThan(0);
        expect(JSON.parse(JSON.stringify(s.entries))).toEqual(s.entries);
        // Independently of the summary: DuckDB counts every data file's rows and, with deletes, live rows.
        const hasData = s.entries.every((e) => fs.existsSync(path.join(dir, e.path)));
        expect(hasData, 'every corpus table keeps its data files').toBe(true);
        const checked = await checkAgainstDuckDB(s, dir, dir);
        const withDv = s.entries.filter((e) => (e.details!['deletes'] as { kind: string }[]).some((x) => x.kind === 'deletion-vector')).length;
        expect(checked).toBe(s.entries.length - withDv);
      });
    }

    it('java/bunnies: one position delete on one file, one equality delete, snapshot id above 2^53', async () => {
      const s = await snapshotLocalTable(icebergScanner, path.join(corpus, 'icebird/java/bunnies'));
      expect(s.tableVersion).toBe('9158179788527662767');
      const kinds = Object.fromEntries(s.entries.map((e) => [e.path, (e.details!['deletes'] as { kind: string }[]).map((x) => x.kind).sort()]));
      // The equality delete (sequence 3) applies to the initial file (1) but not to the file written with it (3).
      expect(kinds).toEqual({ 'data/bunnies-initial.parquet': ['equality', 'position'], 'data/bunnies-updated-new-zealand.parquet': [] });
      const initial = s.entries.find((e) => e.path === 'data/bunnies-initial.parquet')!;
      expect([initial.rows, initial.liveRowsExact]).toEqual([21, false]);
    });

    it('spark/bunnies: a DELETED entry is skipped and its position delete no longer applies', async () => {
      const s = await snapshotLocalTable(icebergScanner, path.join(corpus, 'icebird/spark/bunnies'));
      expect(s.entries.map((e) => [e.path, e.rows])).toEqual([['data/00000-1-6cd7611f-0ceb-4cf3-8b8e-8c856356df3e-00001.parquet', 20]]);
      expect(s.entries[0]!.details!['deletes']).toEqual([]);
    });

    it('legacy bare deletion vector: exact live rows from the vector cardinality', async () => {
      const s = await snapshotLocalTable(icebergScanner, path.join(corpus, 'legacy_bare_deletion_vector/warehouse/default/legacy_bare_deletion_vector'));
      expect(s.entries.map((e) => [e.rows, e.liveRows, e.liveRowsExact])).toEqual([[3, 2, true]]);
    });

    it('spark/rename_column: the current names, with field ids', async () => {
      const s = await snapshotLocalTable(icebergScanner, path.join(corpus, 'icebird/spark/rename_column'));
      const meta = JSON.parse(fs.readFileSync(path.join(corpus, 'icebird/spark/rename_column/metadata/v3.metadata.json'), 'utf8')) as { schemas: { 'schema-id': number; fields: { name: string }[] }[]; 'current-schema-id': number };
      const current = meta.schemas.find((x) => x['schema-id'] === meta['current-schema-id'])!;
      expect(s.schema.fields.map((f) => f.name)).toEqual(current.fields.map((f) => f.name));
    });

    it('gzip metadata without a hint maps like the hinted copy', async () => {
      const a = await snapshotLocalTable(icebergScanner, path.join(corpus, 'iceberg/lineitem_iceberg_gz'));
      const b = await snapshotLocalTable(icebergScanner, path.join(corpus, 'iceberg/lineitem_iceberg_gz_no_hint'));
      expect(b.entries).toEqual(a.entries);
      expect(a.entries[0]!.rows).toBe(111968);
    });
  });
}

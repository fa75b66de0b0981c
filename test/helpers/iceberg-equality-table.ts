// Small Iceberg tables with equality deletes for the edge cases: DuckDB writes every data and delete
// file (with Iceberg field ids), the fixture writer the metadata, each file in its own manifest so that
// each can carry its own data sequence number and partition spec.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sqlString, withDuckDB } from '../../fixtures/parquet/index.js';
import { writeFixtureTable, type FixturePartitionField, type FixtureTable } from '../../fixtures/iceberg/table-writer.js';

/** One file of the table: a data file (no `equalityIds`) or an equality delete file. */
export interface EqualityTableFile {
  /** Path under the table directory, e.g. `data/a.parquet`. */
  path: string;
  /** DuckDB query whose rows the file holds. */
  sql: string;
  /** Iceberg field id of each column of `sql`. */
  fieldIds: Record<string, number>;
  /** Data sequence number. */
  seq: bigint;
  /** Equality field ids: makes it an equality delete file. */
  equalityIds?: number[];
  partition?: Record<string, unknown>;
  /** Partition spec id (default 0). */
  spec?: number;
}

/** The table: its schemas and specs (as {@link FixtureTable}) and its files. */
export interface EqualityTable {
  schemas: FixtureTable['schemas'];
  partitionFields?: FixturePartitionField[];
  specs?: FixtureTable['specs'];
  files: EqualityTableFile[];
}

/** Writes `table` into `dir` and returns the path of its current metadata file (relative to `dir`). */
export async function writeEqualityTable(dir: string, table: EqualityTable): Promise<string> {
  const counts = new Map<string, number>();
  await withDuckDB(async (con) => {
    for (const f of table.files) {
      const abs = path.join(dir, f.path);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      const ids = Object.entries(f.fieldIds).map(([name, id]) => `"${name}": ${id}`).join(', ');
      await con.run(`COPY (${f.sql}) TO ${sqlString(abs)} (FORMAT parquet, FIELD_IDS {${ids}})`);
      const rows = (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(abs)})`)).getRows();
      counts.set(f.path, Number(rows[0]![0]));
    }
  });
  const last = table.files.reduce((a, f) => (f.seq > a ? f.seq : a), 1n);
  return writeFixtureTable(dir, {
    formatVersion: 2,
    writeData: false,
    schemas: table.schemas,
    ...(table.partitionFields ? { partitionFields: table.partitionFields } : {}),
    ...(table.specs ? { specs: table.specs } : {}),
    snapshots: [{
      id: 1n, timestampMs: 1000, sequenceNumber: last,
      manifests: table.files.map((f) => [{
        path: f.path,
        records: counts.get(f.path)!,
        size: fs.statSync(path.join(dir, f.path)).size,
        sequenceNumber: f.seq,
        ...(f.equalityIds ? { content: 2 as const, equalityIds: f.equalityIds } : {}),
        ...(f.partition ? { partition: f.partition } : {}),
      }]),
      manifestSpecs: table.files.map((f) => f.spec ?? 0),
    }],
  });
}

// An Iceberg v2 table with one DuckDB-written data file (3,000 rows `id`, `name` = 'n' || id, row groups
// of 2,048) and one position-delete file removing rows 0, 3, 2047, 2048 and 2999 of it (plus a position
// in another file, which must be ignored). Shared by the local and the object-store read tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sqlString, withDuckDB } from '../../fixtures/parquet/index.js';
import { writeFixtureTable } from '../../fixtures/iceberg/table-writer.js';

/** Positions of `data/a.parquet` the delete file removes. */
export const DELETED_POSITIONS = [0, 3, 2047, 2048, 2999];

/** The ids a reader must return: 0..2999 without {@link DELETED_POSITIONS}. */
export const LIVE_IDS = Array.from({ length: 3000 }, (_, i) => i).filter((i) => !DELETED_POSITIONS.includes(i));

/** Writes the table into `dir` (an empty folder); `positions` replaces {@link DELETED_POSITIONS} in the delete file. */
export async function writePositionDeleteTable(dir: string, positions: readonly number[] = DELETED_POSITIONS): Promise<void> {
  fs.mkdirSync(path.join(dir, 'data'));
  const data = path.join(dir, 'data', 'a.parquet');
  const del = path.join(dir, 'data', 'del.parquet');
  await withDuckDB(async (con) => {
    await con.run(`COPY (SELECT i::BIGINT AS id, 'n' || i::VARCHAR AS name FROM range(3000) t(i) ORDER BY i) TO ${sqlString(data)} (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    const rows = [...positions.map((p) => `('s3://warehouse/db/t/data/a.parquet', ${p})`), `('s3://warehouse/db/t/data/other.parquet', 5)`];
    await con.run(`COPY (SELECT file_path, pos::BIGINT AS pos FROM (VALUES ${rows.join(', ')}) v(file_path, pos)) TO ${sqlString(del)} (FORMAT parquet)`);
  });
  writeFixtureTable(dir, {
    formatVersion: 2,
    writeData: false,
    schemas: [{ 'schema-id': 0, type: 'struct', fields: [{ id: 1, name: 'id', required: false, type: 'long' }, { id: 2, name: 'name', required: false, type: 'string' }] }],
    snapshots: [{
      id: 1n, timestampMs: 1000, sequenceNumber: 1n,
      manifests: [
        [{ path: 'data/a.parquet', records: 3000, size: fs.statSync(data).size }],
        [{ path: 'data/del.parquet', records: positions.length + 1, size: fs.statSync(del).size, content: 1 }],
      ],
    }],
  });
}

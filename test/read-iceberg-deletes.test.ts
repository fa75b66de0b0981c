// Iceberg position deletes on a table built here: DuckDB writes the data file and the position delete
// file, our fixture writer the metadata. The deleted positions must be gone, every other row kept in order.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { sqlString, withDuckDB } from '../fixtures/parquet/index.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { tempDir } from './helpers/tmp.js';

describe('iceberg position deletes', () => {
  it('removes exactly the deleted positions, also across row groups', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'data'));
    const data = path.join(dir, 'data', 'a.parquet');
    const del = path.join(dir, 'data', 'del.parquet');
    const deleted = [0, 3, 2047, 2048, 2999];
    await withDuckDB(async (con) => {
      await con.run(`COPY (SELECT i::BIGINT AS id, 'n' || i::VARCHAR AS name FROM range(3000) t(i) ORDER BY i) TO ${sqlString(data)} (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
      const rows = [...deleted.map((p) => `('s3://warehouse/db/t/data/a.parquet', ${p})`), `('s3://warehouse/db/t/data/other.parquet', 5)`];
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
          [{ path: 'data/del.parquet', records: deleted.length + 1, size: fs.statSync(del).size, content: 1 }],
        ],
      }],
    });
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const batches: RecordBatch[] = [];
    for await (const b of engine.readCollection({ collectionName: 't' })) batches.push(b);
    const ids = batches.flatMap((b) => [...b.getChild('id')!].map(Number));
    const want = Array.from({ length: 3000 }, (_, i) => i).filter((i) => !deleted.includes(i));
    expect(ids).toEqual(want);
    const names = batches.flatMap((b) => [...b.getChild('name')!]);
    expect(names).toEqual(want.map((i) => `n${i}`));
  });
});

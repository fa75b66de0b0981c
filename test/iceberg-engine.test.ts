// End to end through the RefreshEngine: an Iceberg table refreshed across snapshots.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/engine/engine.js';
import { writeFixtureTable } from '../fixtures/iceberg/table-writer.js';
import { historyTable, SNAP1, SNAP3 } from '../fixtures/iceberg/sample-tables.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-iceberg-e2e-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('iceberg-table through the engine', () => {
  it('refreshes a snapshot, keeps segment ids of unchanged files, and fails a bad snapshot id with a reason', async () => {
    const source = path.join(tmp, 'table');
    fs.mkdirSync(source);
    writeFixtureTable(source, historyTable());
    const engine = new RefreshEngine({ root: path.join(tmp, 'root') });
    await engine.createCollection({ collectionName: 'old', externalSource: source, externalSpec: { format: 'iceberg-table', snapshot_id: SNAP1.toString() } });
    await engine.createCollection({ collectionName: 'now', externalSource: source, externalSpec: { format: 'iceberg-table' },
      fields: [{ name: 'id', externalField: 'id' }, { name: 'full_name', externalField: 'full_name' }] });
    await engine.createCollection({ collectionName: 'bad', externalSource: source, externalSpec: { format: 'iceberg-table', snapshot_id: '77' } });

    const run = async (collectionName: string) => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
    expect((await run('old')).state).toBe('RefreshCompleted');
    expect((await run('now')).state).toBe('RefreshCompleted');
    const bad = await run('bad');
    expect(bad.state).toBe('RefreshFailed');
    expect(String((bad as { reason?: string }).reason)).toContain('snapshot 77 does not exist');

    const old = await engine.getManifest({ collectionName: 'old' });
    const now = await engine.getManifest({ collectionName: 'now' });
    expect(old.tableVersion).toBe(SNAP1.toString());
    expect(now.tableVersion).toBe(SNAP3.toString());
    expect(old.physicalRows).toBe(30);
    expect(now.physicalRows).toBe(37);
    expect(now.totalRowsExact).toBe(false);
    expect(now.totalRows).toBe(8 + 17 + 7);
    expect(now.files.map((f) => f.path).sort()).toEqual(['data/day=19000/a.parquet', 'data/day=19001/b.parquet', 'data/day=19001/d.parquet']);
    expect(now.schema.fields.map((f) => f.name)).toEqual(['id', 'full_name']);
  });
});

describe('iceberg-table through the engine: a table whose data file lies beside it (corpus column_mapping)', () => {
  const warehouse = path.resolve(import.meta.dirname, '../../shared/corpus/iceberg/column_mapping/warehouse');

  it('fails PATH_ESCAPE naming table_path when the source is the table, and maps with the source widened and table_path set', async () => {
    expect(fs.existsSync(warehouse), `the Iceberg corpus is missing: ${warehouse}`).toBe(true);
    const engine = new RefreshEngine({ root: path.join(tmp, 'root-beside') });
    await engine.createCollection({ collectionName: 'narrow', externalSource: path.join(warehouse, 'default.db/my_table'), externalSpec: { format: 'iceberg-table' } });
    await engine.createCollection({ collectionName: 'wide', externalSource: warehouse, externalSpec: { format: 'iceberg-table', table_path: 'default.db/my_table' } });
    const run = async (collectionName: string) => engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName })).jobId);
    const narrow = await run('narrow');
    expect(narrow.state).toBe('RefreshFailed');
    expect(narrow.errorCode).toBe('PATH_ESCAPE');
    expect(narrow.reason).toMatch(/mock_data\.parquet lies outside the table folder.*table_path/);
    const wide = await run('wide');
    expect(wide.state, wide.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'wide' });
    expect(m.files.map((f) => f.path)).toEqual(['example/mock_data.parquet']);
    expect(m.totalRows).toBeGreaterThan(0);
  });
});

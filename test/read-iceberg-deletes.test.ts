// Iceberg position deletes on a table built here (test/helpers/iceberg-delete-table.ts): DuckDB writes the data
// file and the position delete file, our fixture writer the metadata. The deleted positions must be gone, every other row kept in order.
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { LIVE_IDS, writePositionDeleteTable } from './helpers/iceberg-delete-table.js';
import { tempDir } from './helpers/tmp.js';

describe('iceberg position deletes', () => {
  it('removes exactly the deleted positions, also across row groups', async () => {
    const dir = tempDir();
    await writePositionDeleteTable(dir);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const batches: RecordBatch[] = [];
    for await (const b of engine.readCollection({ collectionName: 't' })) batches.push(b);
    const ids = batches.flatMap((b) => [...b.getChild('id')!].map(Number));
    expect(ids).toEqual(LIVE_IDS);
    const names = batches.flatMap((b) => [...b.getChild('name')!]);
    expect(names).toEqual(LIVE_IDS.map((i) => `n${i}`));
  });
});

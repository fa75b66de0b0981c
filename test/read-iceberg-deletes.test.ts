// Iceberg position deletes on a table built here (test/helpers/iceberg-delete-table.ts): DuckDB writes the data
// file and the position delete file, our fixture writer the metadata. The deleted positions must be gone, every other row kept in order.
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { LakemapError, RefreshEngine } from '../src/index.js';
import { DELETED_POSITIONS, LIVE_IDS, writePositionDeleteTable } from './helpers/iceberg-delete-table.js';
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

describe('iceberg position deletes: bounded and checked', () => {
  async function refreshed(positions?: number[]): Promise<RefreshEngine> {
    const dir = tempDir();
    await writePositionDeleteTable(dir, positions);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 't', externalSource: dir, externalSpec: { format: 'iceberg-table' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    return engine;
  }
  async function readAll(engine: RefreshEngine, readBudgetBytes?: number): Promise<number[]> {
    const ids: number[] = [];
    for await (const b of engine.readCollection({ collectionName: 't', ...(readBudgetBytes === undefined ? {} : { readBudgetBytes }) })) ids.push(...[...b.getChild('id')!].map(Number));
    return ids;
  }

  it('a position repeated in the delete file deletes its row once; the rest are read', async () => {
    const engine = await refreshed([...DELETED_POSITIONS, 3, 3, 2999]);
    expect(await readAll(engine)).toEqual(LIVE_IDS);
  });

  it('a position past the data file\'s rows is CORRUPT_FILE naming the delete file, not ignored', async () => {
    const engine = await refreshed([1, 3000]);
    const err = await readAll(engine).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('CORRUPT_FILE');
    expect((err as LakemapError).message).toMatch(/data\/del\.parquet: deletes position 3000 of data\/a\.parquet, which has 3000 rows/);
  });

  it('the deleted-row marks count against the read budget: refused past it, naming the data file', async () => {
    const engine = await refreshed();
    // one bit per row: 3,000 rows take 375 bytes, more than a 300-byte budget
    const err = await readAll(engine, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('UNSUPPORTED');
    expect((err as LakemapError).message).toMatch(/data\/a\.parquet: marking the deleted rows of its 3000 rows takes 375 bytes, more than the 300-byte read budget/);
  });
});

// The parquet scanner end to end through RefreshEngine, on the example lake, as a user names format 'parquet'.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { tempDir, writeFile } from './helpers/tmp.js';

async function refreshOnce(engine: RefreshEngine, collectionName: string) {
  const { jobId } = await engine.refreshExternalCollection({ collectionName });
  return engine.waitForRefresh(jobId);
}

describe('parquet through the engine', () => {
  it('maps the example lake: files, row groups as units, vector column in the schema', async () => {
    const src = tempDir();
    const files = await writeExampleLake(src);
    writeFile(path.join(src, 'README.txt'), 'not parquet');
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'lake', externalSource: src, externalSpec: { format: 'parquet' } });
    const info = await refreshOnce(engine, 'lake');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'lake' });
    expect(m.files.map((f) => f.path)).toEqual(files.map((f) => f.path).sort());
    expect(m.files.map((f) => f.rows)).toEqual([...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => f.rows));
    expect(m.totalRows).toBe(files.reduce((s, f) => s + f.rows, 0));
    const big = m.files.find((f) => f.path === 'year=2024/month=02/part-0.parquet')!;
    expect(big.units.map((u) => [u.rowOffset, u.rows])).toEqual([[0, 2048], [2048, 952]]);
    expect(big.details).toMatchObject({ numRowGroups: 2, createdBy: expect.stringMatching(/^DuckDB/) });
    expect(m.fileSchemas.length).toBe(1);
    const vec = m.schema.fields.find((f) => f.name === 'vec')!;
    expect(vec.type).toBe('List<Float32>');
    expect(m.segments.reduce((s, seg) => s + seg.rows, 0)).toBe(m.totalRows);
  });

  it('fails the refresh with the file named when a file is corrupt, and skips it with skip_invalid', async () => {
    const src = tempDir();
    await writeExampleLake(src);
    const bad = path.join(src, 'year=2025/month=01/broken.parquet');
    const bytes = fs.readFileSync(path.join(src, 'year=2025/month=01/part-0.parquet'));
    fs.writeFileSync(bad, bytes.subarray(0, bytes.length - 100));
    const engine = new RefreshEngine({ root: tempDir() });
    await engine.createCollection({ collectionName: 'strict', externalSource: src, externalSpec: { format: 'parquet' } });
    const failed = await refreshOnce(engine, 'strict');
    expect(failed.state).toBe('RefreshFailed');
    expect(failed.reason).toMatch(/broken\.parquet.*PAR1/);

    await engine.createCollection({ collectionName: 'lenient', externalSource: src, externalSpec: { format: 'parquet', skip_invalid: true } });
    const ok = await refreshOnce(engine, 'lenient');
    expect(ok.state, ok.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'lenient' });
    expect(m.files.map((f) => f.path)).not.toContain('year=2025/month=01/broken.parquet');
    expect(m.totalRows).toBe(7500);
  });
});

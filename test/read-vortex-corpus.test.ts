// Real Vortex files (written by the Rust Vortex library) read through engine.readSegment: each file of
// the stable corpus either gives exactly its rows and values (checked against EXPECTED.json and the
// values PROVENANCE.md states) or is refused naming the encoding. Which one is asserted file by file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { RefreshEngine } from '../src/index.js';
import { describeWithCorpus } from './helpers/corpus.js';
import { tempDir } from './helpers/tmp.js';

interface Expected { rows: number; min?: number; max?: number; dtype: string }

async function readFile(dir: string, file: string): Promise<{ rows: Record<string, unknown>[]; batches: RecordBatch[]; segments: number }> {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
  await engine.createCollection({ collectionName: 'v', externalSource: dir, externalSpec: { format: 'vortex', files: file } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  const m = await engine.getManifest({ collectionName: 'v' });
  const batches: RecordBatch[] = [];
  for (const s of m.segments) for await (const b of engine.readSegment({ collectionName: 'v', segmentId: s.id })) batches.push(b);
  const rows = batches.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));
  return { rows, batches, segments: m.segments.length };
}

describeWithCorpus('vortex', 'real Vortex files read by lakemap', (dir) => {
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'EXPECTED.json'), 'utf8')) as Record<string, Expected>;

  it('lists exactly the files these tests assert (a new corpus file needs its own assertion)', () => {
    expect(Object.keys(expected).sort()).toEqual(['stable/int32-flat-0.74.vortex', 'stable/struct-five-0.70.vortex']);
    expect(fs.readdirSync(path.join(dir, 'stable')).sort()).toEqual(['int32-flat-0.74.vortex', 'struct-five-0.70.vortex']);
  });

  it('int32-flat-0.74 (vortex.primitive under a stats layout): the four values 7, -1, 42, 99', async () => {
    const e = expected['stable/int32-flat-0.74.vortex']!;
    const { rows, batches } = await readFile(path.join(dir, 'stable'), 'int32-flat-0.74.vortex');
    expect(rows.length).toBe(e.rows);
    const values = rows.map((r) => r.value as number);
    expect(values).toEqual([7, -1, 42, 99]); // PROVENANCE.md
    expect(Math.min(...values)).toBe(e.min);
    expect(Math.max(...values)).toBe(e.max);
    expect(String(batches[0]!.schema.fields[0]!.type)).toBe('Int32');
  });

  it('struct-five-0.70 (vortex.sequence per column under struct and stats layouts): value 1..5, metric 10..50', async () => {
    const e = expected['stable/struct-five-0.70.vortex']!;
    const { rows, batches } = await readFile(path.join(dir, 'stable'), 'struct-five-0.70.vortex');
    expect(rows.length).toBe(e.rows);
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
    expect(rows.map((r) => r.metric)).toEqual([10n, 20n, 30n, 40n, 50n]);
    expect(batches[0]!.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['value:Uint32', 'metric:Int64']);
  });
});

// The vortex scanner end to end through RefreshEngine, as a user registers no scanner and names format 'vortex'.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { SAMPLES } from '../fixtures/vortex/samples.js';
import { tempDir, writeFile } from './helpers/tmp.js';

async function refreshOnce(src: string, spec: Record<string, unknown> = {}) {
  const engine = new RefreshEngine({ root: tempDir() });
  await engine.createCollection({ collectionName: 'v', externalSource: src, externalSpec: { format: 'vortex', ...spec } });
  const { jobId } = await engine.refreshExternalCollection({ collectionName: 'v' });
  return { engine, info: await engine.waitForRefresh(jobId) };
}

describe('vortex through the engine', () => {
  it('maps a directory of vortex files: rows, units as chunks, details, and segments that hold whole chunks', async () => {
    const src = tempDir();
    const chunkedFile = writeVortexFile(SAMPLES.chunked_struct);
    writeFile(path.join(src, 'part-0.vortex'), chunkedFile.bytes);
    writeFile(path.join(src, 'sub/part-1.vortex'), writeVortexFile(SAMPLES.chunked_struct).bytes);
    writeFile(path.join(src, 'notes.txt'), 'not a vortex file');
    const { engine, info } = await refreshOnce(src, { segment_max_rows: 8 });
    expect(info.state).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'v' });
    expect(m.files.map((f) => f.path)).toEqual(['part-0.vortex', 'sub/part-1.vortex']);
    expect(m.totalRows).toBe(24);
    const f = m.files[0]!;
    expect(f.sizeBytes).toBe(chunkedFile.bytes.length);
    expect(f.units.map((u) => [u.rowOffset, u.rows])).toEqual([[0, 4], [4, 3], [7, 5]]);
    expect(f.details).toMatchObject({ version: 1, encodings: ['vortex.primitive', 'vortex.decimal'] });
    // every segment boundary is a chunk boundary
    for (const s of m.segments) {
      for (const r of s.ranges) expect([0, 4, 7, 12]).toContain(r.rowOffset);
    }
  });

  it('fails the refresh of a legacy file with a reason saying it predates the stable format', async () => {
    const src = tempDir();
    const b = writeVortexFile(SAMPLES.flat_struct).bytes;
    b.set(Buffer.from('VRTX'), b.length - 4);
    writeFile(path.join(src, 'old.vortex'), b);
    const { info } = await refreshOnce(src);
    expect(info.state).toBe('RefreshFailed');
    expect(info.reason).toMatch(/old\.vortex.*predates the stable Vortex file format/);
  });

  it('maps the real pre-0.36 corpus file only to a clear failure', async () => {
    const legacy = path.resolve(import.meta.dirname, '../../shared/corpus/vortex/legacy/example-pre-0.36.vortex');
    expect(fs.existsSync(legacy), `the Vortex corpus is missing: ${legacy}`).toBe(true);
    const { info } = await refreshOnce(path.dirname(legacy)); // read in place: the corpus is read-only
    expect(info.state).toBe('RefreshFailed');
    expect(info.reason).toMatch(/predates the stable Vortex file format \(0\.36\)/);
  });
});

// A streamed version larger than one batch (1,024 files): the stream checks and yields batch after batch,
// and must give exactly the files of the whole manifest, in order. From the directory-wide mutation
// sample (docs/testing.md): the batch reset in `stream.ts` was never reached by a test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir } from './helpers/tmp.js';

describe('streamManifest past one batch', () => {
  it('2,100 files stream as the whole manifest lists them, with their rows', async () => {
    const root = tempDir();
    const source = tempDir();
    for (let i = 0; i < 2100; i++) fs.writeFileSync(path.join(source, `f-${String(i).padStart(5, '0')}.jsonl`), `{"id":${i}}\n`.repeat(1 + (i % 3)));
    const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
    await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const whole = await engine.getManifest({ collectionName: 'c' });
    const stream = await engine.streamManifest({ collectionName: 'c' });
    expect([stream.fileCount, stream.segmentCount]).toEqual([2100, whole.segments.length]);
    const seen: [string, number][] = [];
    for (const { file } of stream.files()) seen.push([file.path, file.rows]);
    expect(seen).toEqual(whole.files.map((f) => [f.path, f.rows]));
    expect(seen.reduce((a, [, r]) => a + r, 0)).toBe(4200);
  }, 120_000);
});

// A streamed version larger than one batch (1,024 files): the stream checks and yields batch after batch,
// and must give exactly the files of the whole manifest, in order; and the counts the root claims are
// checked against what the chunks held. From the directory-wide mutation sample (docs/testing.md): the
// batch reset in `stream.ts` was never reached by a test, and its count check survived.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from 'lakemap';
import { jsonlScanner } from '../docs/examples/jsonl-scanner.js';
import { tempDir } from './helpers/tmp.js';

/** Collection `c` of three one-row jsonl files, refreshed once. */
async function threeFiles() {
  const root = tempDir();
  const source = tempDir();
  for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(source, `f-${i}.jsonl`), `{"id":${i}}\n`);
  const engine = new RefreshEngine({ root, scanners: [jsonlScanner], workers: 0 });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'jsonl' } });
  await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  return { root, engine };
}

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

  it('a root whose file or segment count disagrees with its chunks fails the stream at the end, naming both', async () => {
    const { root, engine } = await threeFiles();
    const file = path.join(root, 'default', 'c', 'manifests', 'v000001.json');
    const good = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect([good.fileCount, good.segmentCount]).toEqual([3, 3]);
    for (const [key, says] of [['fileCount', '4 and 3'], ['segmentCount', '3 and 4']] as const) {
      fs.writeFileSync(file, JSON.stringify({ ...good, [key]: good[key] + 1 }));
      const stream = await engine.streamManifest({ collectionName: 'c' });
      const seen: string[] = [];
      let error: unknown;
      try {
        for (const { file: f } of stream.files()) seen.push(f.path);
      } catch (e) {
        error = e;
      }
      expect(seen, key).toEqual(['f-0.jsonl', 'f-1.jsonl', 'f-2.jsonl']);
      expect(error, key).toMatchObject({ code: 'MANIFEST_CORRUPT', path: file, message: `${file} is not a valid manifest: its chunks hold 3 files and 3 segments, the root says ${says}` });
    }
  });

  it('a chunk index whose columns do not align fails a read and a stream with MANIFEST_CORRUPT naming the chunk', async () => {
    const { root, engine } = await threeFiles();
    await engine.close();
    const chunks = path.join(root, 'default', 'c', 'chunks');
    const name = fs.readdirSync(chunks).find((n) => n.endsWith('.i.json'))!;
    const index = JSON.parse(fs.readFileSync(path.join(chunks, name), 'utf8'));
    index.sizes.pop();
    fs.writeFileSync(path.join(chunks, name), JSON.stringify(index));
    const file = path.join(root, 'default', 'c', 'manifests', 'v000001.json');
    const why = `${file} is not a valid manifest: its chunks cannot be read: chunk index ${name.slice(0, -'.i.json'.length)} is malformed`;
    const fresh = new RefreshEngine({ root });
    await expect(fresh.getManifest({ collectionName: 'c' })).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT', path: file, message: why });
    const stream = await fresh.streamManifest({ collectionName: 'c' });
    expect(() => [...stream.files()]).toThrow(why);
  });
});


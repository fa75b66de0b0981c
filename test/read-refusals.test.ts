// Formats whose values lakemap does not read yet refuse a segment by name, never return rows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { tempDir } from './helpers/tmp.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpus');
const vortexDir = path.join(corpus, 'vortex/stable');

describe.skipIf(!fs.existsSync(vortexDir))('formats not read yet', () => {
  it('vortex: UNSUPPORTED naming the file', async () => {
    const engine = new RefreshEngine({ root: tempDir(), workers: 0 });
    await engine.createCollection({ collectionName: 'v', externalSource: vortexDir, externalSpec: { format: 'vortex', files: 'int32-flat-0.74.vortex' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'v' })).jobId);
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'v' });
    expect(m.segments.length).toBeGreaterThan(0);
    const err = await (async () => {
      for await (const b of engine.readSegment({ collectionName: 'v', segmentId: m.segments[0]!.id })) throw new Error(`returned ${b.numRows} rows`);
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSUPPORTED' });
    expect((err as Error).message).toMatch(/int32-flat-0\.74\.vortex.*vortex/);
  });
});

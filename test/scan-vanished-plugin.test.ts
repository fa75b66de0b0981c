// A file listed by a plugged-in storage without tail reads (no `readTail`: the prober stats, then reads)
// that is gone when probed. From the directory-wide mutation sample (docs/testing.md): the prober's
// NOT_FOUND for a missing stat was reached by no test (only the s3/azure storages take that path, and
// they have `readTail`).
import { describe, expect, it } from 'vitest';
import { RefreshEngine, type FileStat } from 'lakemap';
import { MemoryStorage } from '../docs/examples/custom-storage.js';
import { parquetTemplates } from './helpers/parquet-templates.js';
import { tempDir } from './helpers/tmp.js';

/** Lists one more file than it holds: removed between the listing and the probe. */
class Vanishing extends MemoryStorage {
  override async list(dir = ''): Promise<FileStat[]> {
    return [...(await super.list(dir)), { path: 'z-gone.parquet', size: 4000, mtimeMs: 0 }];
  }
}

describe('a listed file gone at probe time, on a storage without tail reads', () => {
  it('fails the refresh with NOT_FOUND naming it and the storage, as its own read would', async () => {
    const [bytes] = await parquetTemplates(1, () => 30);
    const files = new Map([
      ['a.parquet', new Uint8Array(bytes!)],
      ['b.parquet', new Uint8Array(bytes!)],
    ]);
    const engine = new RefreshEngine({ root: tempDir(), workers: 0, storage: { mem: (url) => new Vanishing(url, files) } });
    await engine.createCollection({ collectionName: 'c', externalSource: 'mem://lake', externalSpec: { format: 'parquet' } });
    const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
    expect(info).toMatchObject({
      state: 'RefreshFailed',
      errorCode: 'NOT_FOUND',
      errorPath: 'z-gone.parquet',
      reason: 'z-gone.parquet not found under mem://lake',
      committed: false,
    });
  });
});

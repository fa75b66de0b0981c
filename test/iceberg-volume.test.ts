// Issue 11: an Iceberg table whose data files lie beside the table folder (add_files, migrations) maps
// through a volume whose directory holds both; anything outside the volume stays PATH_ESCAPE, and the
// message names both ways to allow it (table_path, volumes). Corpus read-only; metadata root in a temp dir.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefreshEngine } from '../src/index.js';
import { tempDir } from './helpers/tmp.js';

const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/iceberg/column_mapping');
const present = fs.existsSync(path.join(corpus, 'warehouse/default.db/my_table'));

async function refresh(volumes: Record<string, string>, source: string) {
  const engine = new RefreshEngine({ root: tempDir(), workers: 0, volumes });
  await engine.createCollection({ collectionName: 't', externalSource: source, externalSpec: { format: 'iceberg-table' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 't' })).jobId);
  return { engine, info };
}

describe.skipIf(!present)('iceberg data files beside the table, through a volume', () => {
  if (!present) console.warn(`SKIPPED: ${corpus} is missing (the shared corpus is not on this machine)`);

  it('maps column_mapping when the volume holds both the table and its data folder', async () => {
    const { engine, info } = await refresh({ lake: path.join(corpus, 'warehouse') }, 'volume://lake/default.db/my_table');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 't' });
    expect(m.files.map((f) => f.path)).toEqual(['example/mock_data.parquet']);
    expect(m.resolvedSource).toBe(path.join(corpus, 'warehouse'));
    expect(m.totalRows).toBeGreaterThan(0);
    expect(m.totalRows).toBe(m.files[0]!.rows);
    expect(m.details?.metadataFile).toMatch(/^default\.db\/my_table\/metadata\/.*\.metadata\.json$/);
    const size = fs.statSync(path.join(corpus, 'warehouse/example/mock_data.parquet')).size;
    expect(m.files[0]!.sizeBytes).toBe(size);
  });

  it('still refuses a data file outside the volume with PATH_ESCAPE naming table_path and volumes', async () => {
    const { info } = await refresh({ db: path.join(corpus, 'warehouse/default.db') }, 'volume://db/my_table');
    expect(info.state).toBe('RefreshFailed');
    expect(info.errorCode).toBe('PATH_ESCAPE');
    expect(info.reason).toMatch(/example\/mock_data\.parquet lies outside the table folder/);
    expect(info.reason).toContain('table_path');
    expect(info.reason).toContain('volume://');
  });
});

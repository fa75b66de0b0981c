// Azure Blob sources end to end against a real Azure Blob server (azurite on 127.0.0.1, started here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, type Manifest } from 'lakemap';
import { ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { parseAzureUrl } from '../src/storage/azure.js';
import { startAzurite, AZ_ACCOUNT, AZ_KEY, type AzureServer } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

let az: AzureServer;
let lake: string;

beforeAll(async () => {
  az = await startAzurite();
  await az.container('lake');
  lake = tempDir();
  await writeExampleLake(lake);
  await az.upload(lake, 'lake', 'trips');
});
afterAll(async () => az?.close());

async function refresh(engine: RefreshEngine, collectionName: string, externalSource?: string) {
  const { jobId } = await engine.refreshExternalCollection({ collectionName, ...(externalSource ? { externalSource } : {}) });
  return engine.waitForRefresh(jobId);
}

function shape(m: Manifest) {
  return {
    totalRows: m.totalRows,
    schema: m.schema.fields,
    files: m.files.map((f) => ({ path: f.path, size: f.sizeBytes, rows: f.rows, units: f.units })),
    segmentRows: m.segments.map((s) => s.ranges),
  };
}

describe('az:// sources', () => {
  it('maps a DuckDB-written lake row-exact as the local refresh does; a no-change refresh commits nothing', async () => {
    const localEngine = new RefreshEngine({ root: tempDir() });
    await localEngine.createCollection({ collectionName: 'l', externalSource: lake, externalSpec: { format: 'parquet' } });
    expect((await refresh(localEngine, 'l')).state).toBe('RefreshCompleted');
    const local = await localEngine.getManifest({ collectionName: 'l' });

    const engine = new RefreshEngine({ root: tempDir(), storageOptions: { connectionString: az.connectionString } });
    await engine.createCollection({ collectionName: 'trips', externalSource: 'az://lake/trips', externalSpec: { format: 'parquet' } });
    const info = await refresh(engine, 'trips');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    const m = await engine.getManifest({ collectionName: 'trips' });
    expect(shape(m)).toEqual(shape(local));
    expect(m.files.every((f) => !!f.etag && !f.etag.startsWith('"'))).toBe(true);
    const again = await refresh(engine, 'trips');
    expect([again.state, again.committed, again.version]).toEqual(['RefreshCompleted', false, 1]);
  });

  it('fails a missing container and an expired SAS with their own codes, no secret in the reason; the previous manifest stays', async () => {
    const engine = new RefreshEngine({ root: tempDir(), storageOptions: { connectionString: az.connectionString } });
    await engine.createCollection({ collectionName: 'c', externalSource: 'az://lake/trips', externalSpec: { format: 'parquet' } });
    expect((await refresh(engine, 'c')).state).toBe('RefreshCompleted');

    const missing = await refresh(engine, 'c', 'az://nope/trips');
    expect([missing.state, missing.errorCode]).toEqual(['RefreshFailed', 'BUCKET_NOT_FOUND']);
    expect(missing.reason).toContain('az://nope/trips');

    const empty = await refresh(engine, 'c', 'az://lake/none');
    expect(empty.errorCode).toBe('NO_FILES');

    const sas = generateBlobSASQueryParameters(
      { containerName: 'lake', permissions: ContainerSASPermissions.parse('rl'), startsOn: new Date(Date.now() - 7200_000), expiresOn: new Date(Date.now() - 3600_000) },
      new StorageSharedKeyCredential(AZ_ACCOUNT, AZ_KEY),
    ).toString();
    const expired = new RefreshEngine({ root: engine.root, storageOptions: { blobEndpoint: az.endpoint, accountName: AZ_ACCOUNT, sasToken: sas, retries: 0 } });
    const e = await refresh(expired, 'c');
    expect(e.state).toBe('RefreshFailed');
    expect(e.errorCode, e.reason).toBe('CREDENTIALS_EXPIRED');
    const sig = new URLSearchParams(sas).get('sig')!;
    expect(e.reason).toContain('az://lake/trips');
    const records = JSON.stringify(expired.listRefreshExternalCollectionJobs());
    expect(records).not.toContain(sig);
    expect(records).not.toContain(encodeURIComponent(sig));
    expect(records).not.toContain(AZ_KEY);

    const m = await engine.getManifest({ collectionName: 'c' });
    expect([m.version, m.externalSource]).toEqual([1, 'az://lake/trips']);
  });

  it('reads abfss://container@account.dfs.core.windows.net/prefix as the same blobs', async () => {
    expect(parseAzureUrl('abfss://lake@devstoreaccount1.dfs.core.windows.net/trips/')).toEqual({ container: 'lake', prefix: 'trips/', account: 'devstoreaccount1' });
    const engine = new RefreshEngine({ root: tempDir(), storageOptions: { connectionString: az.connectionString } });
    await engine.createCollection({ collectionName: 'a', externalSource: 'abfss://lake@devstoreaccount1.dfs.core.windows.net/trips', externalSpec: { format: 'parquet' } });
    const info = await refresh(engine, 'a');
    expect(info.state, info.reason).toBe('RefreshCompleted');
    expect((await engine.getManifest({ collectionName: 'a' })).files.length).toBeGreaterThan(0);
  });
});

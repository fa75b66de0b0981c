// Watching an s3:// collection on a real S3 protocol server (s3rver on 127.0.0.1, started here): the listing
// poll (size, ETag, last-modified) sees objects added, overwritten with the same size and deleted through the
// S3 API, and the collection catches up, each refresh after the first told which keys changed. Checks the
// final manifest, never latency.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, type Manifest, type RefreshJobInfo } from 'lakemap';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { startS3, S3_KEY, S3_SECRET, walk, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

let s3: S3Server;
let lake: string;
let paths: string[];

beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('lake');
  lake = tempDir();
  await writeExampleLake(lake);
  paths = walk(lake).filter((p) => p.endsWith('.parquet'));
  await s3.upload(lake, 'lake', 'trips');
});
afterAll(async () => s3?.close());

describe('watching an s3:// collection', () => {
  it('polls the listing and follows objects added, overwritten in place (same size) and deleted', async () => {
    const engine = new RefreshEngine({ root: tempDir(), storageOptions: { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
    await engine.createCollection({ collectionName: 'trips', externalSource: 's3://lake/trips', externalSpec: { format: 'parquet' } });
    const w = engine.watch({ collectionName: 'trips' }, { debounceMs: 50, pollIntervalMs: 100 });
    const manifest = (what: string, ok: (m: Manifest) => boolean) =>
      waitFor(what, async () => {
        const m = await engine.getManifest({ collectionName: 'trips' });
        return ok(m) && m;
      }, 60_000);
    const listed = (m: Manifest) => m.files.map((f) => f.path).sort();
    const jobs: RefreshJobInfo[] = [];
    w.on('refreshend', (e) => void (e.job && jobs.push(e.job)));
    try {
      await w.ready;
      expect(w.status()).toMatchObject({ mechanism: 'poll-listing', watching: 's3://lake/trips', state: 'watching' });
      const v1 = await manifest('the first refresh', (m) => m.files.length === paths.length);
      expect(listed(v1)).toEqual(paths);

      // Added: a copy of a file under a new partition.
      const first = paths[0]!;
      const bytes = fs.readFileSync(path.join(lake, first));
      await s3.put('lake', 'trips/year=2030/month=01/new.parquet', bytes);
      const v2 = await manifest('the added object', (m) => listed(m).includes('year=2030/month=01/new.parquet'));
      expect(v2.totalRows).toBe(v1.totalRows + v1.files.find((f) => f.path === first)!.rows);

      // Overwritten in place with the same size: only the ETag (and last-modified) tell.
      const etag = v2.files.find((f) => f.path === first)!.etag;
      const changed = Buffer.from(bytes);
      changed[8] = changed[8]! ^ 0xff; // a data byte: same size, same footer
      await s3.put('lake', `trips/${first}`, changed);
      const v3 = await manifest('the overwritten object', (m) => m.files.find((f) => f.path === first)?.etag !== etag);
      expect(v3.files.find((f) => f.path === first)!.sizeBytes).toBe(bytes.length);
      expect(v3.version).toBeGreaterThan(v2.version);

      // Deleted.
      await s3.client.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'trips/year=2030/month=01/new.parquet' }));
      const v4 = await manifest('the deleted object gone', (m) => !listed(m).includes('year=2030/month=01/new.parquet'));
      expect(listed(v4)).toEqual(paths);
      expect(v4.totalRows).toBe(v1.totalRows);

      // After the first refresh, each refresh is told the keys the polls saw change: no second listing.
      expect(jobs.length).toBeGreaterThanOrEqual(4);
      expect(jobs[0]?.hint).toBeUndefined(); // the first refresh lists the whole source
      const later = jobs.slice(1).filter((j) => j.committed);
      expect(later.length).toBeGreaterThanOrEqual(3);
      for (const j of later) expect(j.hint).toMatchObject({ listing: 'hinted' });
      const st = w.status();
      expect(st.errors).toEqual([]);
      expect(st.lastJob?.state).toBe('RefreshCompleted');
      expect(st.pollIntervalMs).toBeGreaterThanOrEqual(100);
    } finally {
      await w.close();
      await engine.close();
    }
  });
});

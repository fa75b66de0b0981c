// A bucket mounted with s3fs (FUSE) is detected as a high-latency file system and refreshed through
// the pipelined path, with the same rows as the local lake. Needs s3fs and /dev/fuse: `.ci/run`
// installs s3fs; on a machine without them this test FAILS, saying why (it never skips silently).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RefreshEngine, type Manifest } from 'lakemap';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { fileSystemType, isHighLatencyDir, isHighLatencyType } from '../src/storage/mounts.js';
import { openSource, parseSource } from '../src/storage/source.js';
import { LocalStorage } from '../src/storage/local.js';
import type { ScanStorage } from '../src/storage/scan-storage.js';
import { mountS3fs, s3fsMissing, startS3Child, walk, S3_KEY, S3_SECRET, type ChildS3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

const missing = s3fsMissing();
let server: ChildS3Server | undefined;
let mount: { dir: string; unmount(): Promise<void> } | undefined;
let lake: string;

beforeAll(async () => {
  if (missing) return;
  lake = tempDir();
  await writeExampleLake(lake);
  server = await startS3Child(); // another process: this one makes synchronous calls on the mount
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
  await client.send(new CreateBucketCommand({ Bucket: 'lake' }));
  const dirs = new Set<string>();
  for (const f of walk(lake)) {
    await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `trips/${f}`, Body: fs.readFileSync(path.join(lake, f)) }));
    for (let d = path.posix.dirname(`trips/${f}`); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  // s3fs 1.90 shows only directories that have a marker object (as it writes them itself).
  for (const d of dirs) await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `${d}/`, Body: '' }));
  client.destroy();
  mount = await mountS3fs(server.endpoint, 'lake');
});
afterAll(async () => {
  await mount?.unmount();
  await server?.close();
});

async function refreshed(source: string): Promise<Manifest> {
  const engine = new RefreshEngine({ root: tempDir() });
  await engine.createCollection({ collectionName: 'c', externalSource: source, externalSpec: { format: 'parquet' } });
  const info = await engine.waitForRefresh((await engine.refreshExternalCollection({ collectionName: 'c' })).jobId);
  expect(info.state, info.reason).toBe('RefreshCompleted');
  return engine.getManifest({ collectionName: 'c' });
}

describe('a bucket mounted with s3fs', () => {
  it('is detected as high latency and maps with the same rows as the local lake', async () => {
    if (missing) throw new Error(`cannot run the mounted-bucket test: ${missing}`);
    const dir = fs.realpathSync(mount!.dir);
    expect(fileSystemType(dir)).toBe('fuse.s3fs');
    expect(isHighLatencyDir(dir)).toBe(true);
    expect(isHighLatencyDir(fs.realpathSync(lake))).toBe(false);
    const remote = await refreshed(path.join(mount!.dir, 'trips'));
    const local = await refreshed(lake);
    const shape = (m: Manifest) => m.files.map((f) => [f.path, f.sizeBytes, f.rows, f.units]);
    expect(shape(remote)).toEqual(shape(local));
    expect(remote.totalRows).toBe(local.totalRows);
  });
});

describe('listing a bucket mounted with s3fs', () => {
  it('is asynchronous there, with the same files as a synchronous walk of the mount and as the local lake', async () => {
    if (missing) throw new Error(`cannot run the mounted-bucket test: ${missing}`);
    const source = path.join(mount!.dir, 'trips');
    const storage = (await openSource(parseSource(source, undefined))) as ScanStorage;
    expect(storage.listSync).toBeUndefined(); // the scan cannot take the one-call-at-a-time walk
    const visible = (name: string): boolean => !name.startsWith('.') && !name.startsWith('_');
    const piped = await storage.listFiltered!('', visible, true);
    expect(piped).toEqual(new LocalStorage(source).listSync('', visible, true));
    const local = new LocalStorage(lake).listSync('', visible, true);
    expect(piped.map((f) => [f.path, f.size])).toEqual(local.map((f) => [f.path, f.size]));
    expect(piped.length).toBeGreaterThan(1);
    expect(await storage.list('')).toEqual(new LocalStorage(source).listSync(''));
  });
});

describe('file-system type detection', () => {
  const info = [
    '22 27 0:21 / /proc rw,relatime - proc proc rw',
    '27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '90 27 0:50 / /mnt/my\\040lake rw,nosuid - fuse.s3fs s3fs rw,user_id=0',
    '91 27 0:51 / /mnt/nfs rw - nfs4 srv:/x rw',
    '92 90 0:52 / /mnt/my\\040lake/inner rw - tmpfs tmpfs rw',
  ].join('\n');

  it('takes the longest mount point holding the path, with escaped names', () => {
    expect(fileSystemType('/mnt/my lake/trips', info)).toBe('fuse.s3fs');
    expect(fileSystemType('/mnt/my lake/inner/x', info)).toBe('tmpfs');
    expect(fileSystemType('/mnt/nfs', info)).toBe('nfs4');
    expect(fileSystemType('/mnt/nfsother', info)).toBe('ext4');
    expect(fileSystemType('/home/a', info)).toBe('ext4');
  });

  it('calls FUSE buckets and network file systems slow, local ones not', () => {
    for (const t of ['fuse.s3fs', 'fuse.mountpoint-s3', 'fuse.gcsfuse', 'fuse.blobfuse2', 'nfs', 'nfs4', 'cifs']) expect(isHighLatencyType(t), t).toBe(true);
    for (const t of ['ext4', 'xfs', 'tmpfs', 'overlay', 'btrfs', 'fuse.lxcfs', undefined]) expect(isHighLatencyType(t), String(t)).toBe(false);
  });

  it('reads a local lake through the pipelined path (forced) with the same manifest as the synchronous path', async () => {
    const dir = tempDir();
    await writeExampleLake(dir);
    const sync = await refreshed(dir);
    const before = process.env.LAKEMAP_PIPELINED_IO;
    process.env.LAKEMAP_PIPELINED_IO = '1';
    try {
      expect(isHighLatencyDir(fs.realpathSync(dir))).toBe(true);
      const piped = await refreshed(dir);
      expect(piped.files).toEqual(sync.files);
      expect(piped.segments).toEqual(sync.segments);
    } finally {
      if (before === undefined) delete process.env.LAKEMAP_PIPELINED_IO;
      else process.env.LAKEMAP_PIPELINED_IO = before;
    }
  });
});

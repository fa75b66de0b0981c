// Plugging your own storage into lakemap (docs/storage.md). Compiled and run by test/s3-source.test.ts.
import { LakemapError, openStorage, type FileStat, type SourceStorage, type StorageFactory } from 'lakemap';

/**
 * `gs://bucket/prefix` through Google Cloud Storage's S3-compatible XML API: give HMAC keys as
 * `accessKeyId` / `secretAccessKey` (engine `storageOptions` or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
export const gcsViaS3: StorageFactory = (url, ctx) =>
  openStorage(url.replace(/^gs:/, 's3:'), {
    endpoint: 'https://storage.googleapis.com',
    region: 'auto',
    ...ctx.options,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });

/** A whole `SourceStorage` of your own: here files held in memory, as `mem://<name>` sources. */
export class MemoryStorage implements SourceStorage {
  constructor(
    readonly root: string,
    private readonly files: Map<string, Uint8Array>,
  ) {}

  async stat(path: string): Promise<FileStat | undefined> {
    const f = this.files.get(path);
    return f && { path, size: f.length, mtimeMs: 0 };
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f) throw new LakemapError('NOT_FOUND', `${this.root}/${path} not found`, { path });
    if (offset < 0 || length < 0 || offset + length > f.length) {
      throw new LakemapError('CORRUPT_FILE', `${path}: read of ${length} bytes at ${offset} is past the end`, { path });
    }
    return f.subarray(offset, offset + length);
  }

  async readFile(path: string, maxBytes = 256 * 1024 * 1024): Promise<Uint8Array> {
    const st = await this.stat(path);
    if (!st) throw new LakemapError('NOT_FOUND', `${this.root}/${path} not found`, { path });
    if (st.size > maxBytes) throw new LakemapError('CORRUPT_FILE', `${path} is larger than ${maxBytes} bytes`, { path });
    return this.read(path, 0, st.size);
  }

  async list(dir = ''): Promise<FileStat[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    return [...this.files.keys()]
      .filter((p) => p.startsWith(prefix))
      .sort()
      .map((p) => ({ path: p, size: this.files.get(p)!.length, mtimeMs: 0 }));
  }
}

/**
 * S3 (and S3-compatible: MinIO, R2, Ceph, GCS interop) through `@aws-sdk/client-s3`, loaded lazily.
 * The SDK's own retries are off: {@link RequestPolicy} retries, times out and limits every request.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { S3Client as S3ClientType } from '@aws-sdk/client-s3';
import { LakemapError } from '../errors.js';
import { ObjectStorage, contentRangeTotal, errorFacts, isTransient, storageError, type ObjectBackend, type ObjectInfo } from './object-store.js';
import { RequestPolicy, redact } from './request-policy.js';
import { loadOptional, type StorageOptions } from './options.js';

type S3Module = typeof import('@aws-sdk/client-s3');

/** Bucket and key prefix of an `s3://bucket/prefix` URL. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(url);
  if (!m || m[1]!.includes('@')) {
    throw new LakemapError('INVALID_SOURCE', `${url.replace(/\?.*$/, '?…')} is not an s3://bucket/prefix URL (credentials go in the environment or storageOptions, never in the URL)`);
  }
  const prefix = decodeURIComponent((m[2] ?? '').replace(/^\/+/, '').replace(/\/+$/, ''));
  return { bucket: m[1]!, prefix: prefix === '' ? '' : `${prefix}/` };
}

/** Opens `s3://bucket/prefix` with the SDK's standard credential chain, or the given options. */
export async function openS3(url: string, options: StorageOptions, signal?: AbortSignal): Promise<ObjectStorage> {
  const { bucket, prefix } = parseS3Url(url);
  const sdk = await loadOptional<S3Module>('@aws-sdk/client-s3', 's3://');
  const policy = new RequestPolicy(options, signal);
  const client = makeClient(sdk, options, policy.concurrency);
  const root = `s3://${bucket}${prefix === '' ? '' : `/${prefix.slice(0, -1)}`}`;
  return new ObjectStorage(root, prefix, new S3Backend(sdk, client, bucket, secretsOf(options)), policy);
}

/** The client: endpoint and region from options or the environment, path-style for custom endpoints. */
export function makeClient(sdk: S3Module, options: StorageOptions, sockets: number): S3ClientType {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const agent = { keepAlive: true, maxSockets: sockets };
  const config: ConstructorParameters<S3Module['S3Client']>[0] = {
    region,
    maxAttempts: 1, // the request policy retries
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    requestHandler: { httpAgent: new http.Agent(agent), httpsAgent: new https.Agent(agent) },
  };
  if (endpoint) config.endpoint = endpoint;
  if (options.accessKeyId && options.secretAccessKey) {
    config.credentials = {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    };
  }
  return new sdk.S3Client(config);
}

function secretsOf(o: StorageOptions): string[] {
  return [o.secretAccessKey, o.sessionToken, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN].filter((s): s is string => !!s);
}

class S3Backend implements ObjectBackend {
  constructor(
    private readonly sdk: S3Module,
    private readonly client: S3ClientType,
    private readonly bucket: string,
    private readonly secrets: string[],
  ) {}

  async listPage(prefix: string, token: string | undefined, signal: AbortSignal): Promise<{ objects: ObjectInfo[]; next?: string }> {
    // ListObjects (v1) paged by Marker = the last key seen: every S3-compatible server answers it the
    // same way, while some fail on v2's continuation tokens (s3rver makes them with DES, which OpenSSL 3
    // no longer has, so any listing of more than 1,000 keys failed).
    const cmd = new this.sdk.ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, ...(token ? { Marker: token } : {}) });
    const res = await this.client.send(cmd, { abortSignal: signal });
    const objects = (res.Contents ?? []).map((o): ObjectInfo => ({
      key: o.Key ?? '',
      size: Number(o.Size ?? 0),
      mtimeMs: o.LastModified ? o.LastModified.getTime() : 0,
      ...(o.ETag ? { etag: o.ETag } : {}),
    }));
    const last = res.Contents?.[res.Contents.length - 1]?.Key;
    return res.IsTruncated && last ? { objects, next: last } : { objects };
  }

  async head(key: string, signal: AbortSignal): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { key, size: Number(res.ContentLength ?? 0), mtimeMs: res.LastModified?.getTime() ?? 0, ...(res.ETag ? { etag: res.ETag } : {}) };
    } catch (e) {
      const f = errorFacts(e);
      if (f.status === 404 && f.code !== 'NoSuchBucket') return undefined;
      throw e;
    }
  }

  async getRange(key: string, start: number, end: number, signal: AbortSignal) {
    // Always an explicit first-last range: some servers answer a suffix range (`bytes=-N`) wrongly.
    const res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }), { abortSignal: signal });
    const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    const total = contentRangeTotal(res.ContentRange) ?? bytes.length;
    return { bytes, total, mtimeMs: res.LastModified?.getTime() ?? 0, ...(res.ETag ? { etag: res.ETag } : {}) };
  }

  transient(err: unknown): boolean {
    return isTransient(err);
  }

  toError(err: unknown, url: string, path: string | undefined): LakemapError {
    const f = errorFacts(err);
    if (f.code === 'AttemptTimeout') return new LakemapError('IO_ERROR', `${url}: ${f.message} (timed out after retries)`, path === undefined ? { path: url } : { path });
    if (f.code === 'CredentialsProviderError') {
      return new LakemapError('ACCESS_DENIED', `${url}: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or storageOptions)`, { path: url });
    }
    return storageError('bucket', url, path, f, redact(f.message, this.secrets), err);
  }
}

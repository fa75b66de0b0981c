/**
 * Azure Blob Storage through `@azure/storage-blob`, loaded lazily. `az://container/prefix`, and
 * `abfss://container@account.dfs.core.windows.net/prefix` as an alias (the same blobs through the
 * Blob endpoint). The SDK's own retries are off: {@link RequestPolicy} retries, times out and limits.
 */
import type { BlobItem, ContainerClient } from '@azure/storage-blob';
import { LakemapError } from '../errors.js';
import { ObjectStorage, contentRangeTotal, errorFacts, isTransient, storageError, type ObjectBackend, type ObjectInfo, type RangeResult } from './object-store.js';
import { RequestPolicy, redact } from './request-policy.js';
import { loadOptional, type StorageOptions } from './options.js';

type AzureModule = typeof import('@azure/storage-blob');

/** Container, key prefix and (for abfss) account of an Azure URL. */
export function parseAzureUrl(url: string): { container: string; prefix: string; account?: string } {
  let m = /^(?:az|azure):\/\/([^/?#@]+)(\/[^?#]*)?$/i.exec(url);
  let account: string | undefined;
  if (!m) {
    m = /^abfss?:\/\/([^/?#@]+)@([a-z0-9]+)\.(?:dfs|blob)\.core\.windows\.net(\/[^?#]*)?$/i.exec(url);
    if (m) {
      account = m[2]!;
      m = [m[0], m[1]!, m[3]!] as unknown as RegExpExecArray;
    }
  }
  if (!m) {
    throw new LakemapError('INVALID_SOURCE', `${url.replace(/\?.*$/, '?…')} is not an az://container/prefix or abfss://container@account.dfs.core.windows.net/prefix URL (SAS tokens go in the environment or storageOptions, never in the URL)`);
  }
  const prefix = decodeURIComponent((m[2] ?? '').replace(/^\/+/, '').replace(/\/+$/, ''));
  return { container: m[1]!, prefix: prefix === '' ? '' : `${prefix}/`, ...(account ? { account } : {}) };
}

/** Opens an Azure URL with the connection string, account key or SAS from options or the environment. */
export async function openAzure(url: string, options: StorageOptions, signal?: AbortSignal): Promise<ObjectStorage> {
  const { container, prefix, account } = parseAzureUrl(url);
  const sdk = await loadOptional<AzureModule>('@azure/storage-blob', 'az://');
  const policy = new RequestPolicy(options, signal);
  const env = process.env;
  const pipeline = { retryOptions: { maxTries: 1 } }; // the request policy retries
  const accountName = options.accountName ?? account ?? env.AZURE_STORAGE_ACCOUNT ?? env.AZURE_STORAGE_ACCOUNT_NAME;
  const accountKey = options.accountKey ?? env.AZURE_STORAGE_KEY ?? env.AZURE_STORAGE_ACCOUNT_KEY;
  const sas = (options.sasToken ?? env.AZURE_STORAGE_SAS_TOKEN)?.replace(/^\?/, '');
  const connectionString = options.connectionString ?? (options.accountKey || options.sasToken ? undefined : env.AZURE_STORAGE_CONNECTION_STRING);
  const secrets = [connectionString, accountKey, sas].filter((s): s is string => !!s);
  // A SAS says when it expires: fail with the real reason rather than the service's generic 403.
  const expiry = sas ? Date.parse(new URLSearchParams(sas).get('se') ?? '') : NaN;
  if (expiry < Date.now()) {
    throw new LakemapError('CREDENTIALS_EXPIRED', `${url}: the SAS token expired at ${new Date(expiry).toISOString()}; give a fresh one`, { path: url });
  }
  let service: InstanceType<AzureModule['BlobServiceClient']>;
  try {
    if (connectionString) service = sdk.BlobServiceClient.fromConnectionString(connectionString, pipeline);
    else {
      if (!accountName && !options.blobEndpoint) {
        throw new LakemapError('ACCESS_DENIED', `${url}: no Azure account; set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with a key or SAS, or storageOptions`);
      }
      const endpoint = (options.blobEndpoint ?? `https://${accountName}.blob.core.windows.net`).replace(/\/+$/, '');
      if (accountKey && accountName) service = new sdk.BlobServiceClient(endpoint, new sdk.StorageSharedKeyCredential(accountName, accountKey), pipeline);
      else service = new sdk.BlobServiceClient(sas ? `${endpoint}?${sas}` : endpoint, new sdk.AnonymousCredential(), pipeline);
    }
  } catch (e) {
    if (LakemapError.is(e)) throw e;
    throw new LakemapError('INVALID_SOURCE', `${url}: the Azure credentials cannot be used (${redact(errorFacts(e).message, secrets)})`);
  }
  const client = service.getContainerClient(container);
  const root = url.replace(/\/+$/, '');
  return new ObjectStorage(root, prefix, new AzureBackend(client, secrets), policy);
}

class AzureBackend implements ObjectBackend {
  constructor(
    private readonly client: ContainerClient,
    private readonly secrets: string[],
  ) {}

  async listPage(prefix: string, token: string | undefined, signal: AbortSignal): Promise<{ objects: ObjectInfo[]; next?: string }> {
    const pages = this.client.listBlobsFlat({ prefix, abortSignal: signal }).byPage({ maxPageSize: 5000, ...(token ? { continuationToken: token } : {}) });
    const { value } = await pages.next();
    const objects = (value?.segment.blobItems ?? []).map((b: BlobItem): ObjectInfo => ({
      key: b.name,
      size: Number(b.properties.contentLength ?? 0),
      mtimeMs: b.properties.lastModified?.getTime() ?? 0,
      ...(b.properties.etag ? { etag: b.properties.etag } : {}),
    }));
    return value?.continuationToken ? { objects, next: value.continuationToken } : { objects };
  }

  async head(key: string, signal: AbortSignal): Promise<ObjectInfo | undefined> {
    try {
      const p = await this.client.getBlobClient(key).getProperties({ abortSignal: signal });
      return { key, size: Number(p.contentLength ?? 0), mtimeMs: p.lastModified?.getTime() ?? 0, ...(p.etag ? { etag: p.etag } : {}) };
    } catch (e) {
      const f = errorFacts(e);
      if (f.status === 404 && f.code !== 'ContainerNotFound') return undefined;
      throw e;
    }
  }

  async getRange(key: string, start: number, end: number, signal: AbortSignal): Promise<RangeResult> {
    // The SDK sends an explicit `x-ms-range: bytes=start-end`.
    const res = await this.client.getBlobClient(key).download(start, end - start + 1, { abortSignal: signal });
    const chunks: Buffer[] = [];
    for await (const c of res.readableStreamBody ?? []) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const total = contentRangeTotal(res.contentRange) ?? bytes.length;
    return { bytes, total, mtimeMs: res.lastModified?.getTime() ?? 0, ...(res.etag ? { etag: res.etag } : {}) };
  }

  transient(err: unknown): boolean {
    return isTransient(err);
  }

  toError(err: unknown, url: string, path: string | undefined): LakemapError {
    const f = errorFacts(err);
    // The service's message repeats the request (with its SAS) and a long XML body: keep its first line.
    const detail = redact(f.message.split('\n')[0] ?? '', this.secrets);
    if (f.code === 'AttemptTimeout') return new LakemapError('IO_ERROR', `${url}: ${f.message} (timed out after retries)`, path === undefined ? { path: url } : { path });
    return storageError('container', url, path, f, detail, err);
  }
}

/**
 * What S3 and Azure Blob storages share: paths relative to a prefix, a listing that remembers sizes
 * (so a tail is one ranged GET, never a HEAD first), range checks before any request, and the error
 * codes a failed request becomes. A backend only supplies the four raw requests.
 */
import { LakemapError, corruptFile } from '../errors.js';
import type { FileStat, SourceStorage } from '../scanner.js';
import { checkRange, normalizeRelative, type FileTail } from './local.js';
import type { RequestPolicy } from './request-policy.js';

const DEFAULT_MAX_FILE = 256 * 1024 * 1024;

/** An object as a listing or HEAD reports it. */
export interface ObjectInfo {
  /** Full key (with the storage prefix). */
  key: string;
  size: number;
  mtimeMs: number;
  etag?: string;
}

/** Bytes of one ranged GET and what the response said about the whole object. */
export interface RangeResult {
  bytes: Uint8Array;
  /** Object size from `Content-Range` (or the length of a whole-object GET). */
  total: number;
  mtimeMs: number;
  etag?: string;
}

/** A tail with the identity of the object it was read from. */
export interface ObjectTail extends FileTail {
  /** ETag of the object the bytes came from. */
  etag?: string;
}

/** The raw requests a backend performs; each runs under the storage's {@link RequestPolicy}. */
export interface ObjectBackend {
  /** One page of keys under `prefix`; `token` continues a previous page. */
  listPage(prefix: string, token: string | undefined, signal: AbortSignal): Promise<{ objects: ObjectInfo[]; next?: string }>;
  /** Size, mtime and ETag of one object, or undefined when there is none. */
  head(key: string, signal: AbortSignal): Promise<ObjectInfo | undefined>;
  /** Bytes `start` to `end` inclusive (`end` < `start` for an empty read of a whole object). */
  getRange(key: string, start: number, end: number, signal: AbortSignal): Promise<RangeResult>;
  /** Classifies a failed request for retry. */
  transient(err: unknown): boolean;
  /** Turns a failed request about `url` into a LakemapError without secrets. */
  toError(err: unknown, url: string, path: string | undefined): LakemapError;
}

/**
 * {@link SourceStorage} over a bucket (or container) and a key prefix. Paths are keys below the prefix;
 * keys that are not clean relative paths (`a//b`, `a/../b`, a trailing `/` directory marker) are left
 * out of listings and refused as paths, so nothing leads outside the prefix.
 */
export class ObjectStorage implements SourceStorage {
  /** The URL of the prefix, e.g. `s3://lake/trips`. */
  readonly root: string;
  private readonly known = new Map<string, ObjectInfo>();

  constructor(
    root: string,
    /** Key prefix, '' or ending in `/`. */
    private readonly prefix: string,
    private readonly backend: ObjectBackend,
    /** Concurrency, retries, timeouts and cancellation of every request. */
    readonly policy: RequestPolicy,
  ) {
    this.root = root.replace(/\/+$/, '');
  }

  private key(rel: string): { clean: string; key: string } {
    const clean = normalizeRelative(rel, this.root);
    return { clean, key: this.prefix + clean };
  }

  private call<T>(what: string | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.policy.run(fn, (e) => (this.backend.transient(e) ? 'transient' : 'permanent')).catch((e: unknown) => {
      if (LakemapError.is(e)) throw e;
      throw this.backend.toError(e, what === undefined ? this.root : `${this.root}/${what}`, what);
    });
  }

  async stat(rel: string): Promise<FileStat | undefined> {
    const { clean, key } = this.key(rel);
    if (clean === '') return undefined;
    const info = await this.call(clean, (s) => this.backend.head(key, s));
    if (!info) return undefined;
    this.known.set(clean, info);
    return toStat(clean, info);
  }

  async read(rel: string, offset: number, length: number): Promise<Uint8Array> {
    const { clean, key } = this.key(rel);
    let info = this.known.get(clean);
    if (!info) {
      await this.stat(clean);
      info = this.known.get(clean);
      if (!info) throw new LakemapError('NOT_FOUND', `${this.root}/${clean} not found`, { path: clean });
    }
    checkRange(clean, offset, length, info.size);
    if (length === 0) return new Uint8Array(0);
    const r = await this.call(clean, (s) => this.backend.getRange(key, offset, offset + length - 1, s));
    if (r.bytes.length !== length) throw corruptFile(clean, `object changed while reading: wanted ${length} bytes at ${offset}, got ${r.bytes.length}`);
    return r.bytes;
  }

  /**
   * Bytes `[offset, offset + length)` in one ranged GET, with what the response says about the whole
   * object (size, ETag, mtime), for a caller that knows the object's size already (a manifest): no
   * HEAD, no listing. A range past the end of the object (HTTP 416) is `SOURCE_CHANGED`: the object is
   * shorter than the caller was told.
   */
  async readRange(rel: string, offset: number, length: number): Promise<RangeResult> {
    const { clean, key } = this.key(rel);
    if (length <= 0) throw new RangeError(`readRange of ${length} bytes`);
    const r = await this.call(clean, (s) =>
      this.backend.getRange(key, offset, offset + length - 1, s).catch((e: unknown) => {
        if (errorFacts(e).status !== 416) throw e;
        throw new LakemapError('SOURCE_CHANGED', `${this.root}/${clean}: bytes [${offset}, ${offset + length}) lie past the end of the object (it is shorter than expected)`, { path: clean });
      }),
    );
    const etag = normalizeEtag(r.etag);
    return { bytes: r.bytes, total: r.total, mtimeMs: r.mtimeMs, ...(etag ? { etag } : {}) };
  }

  async readFile(rel: string, maxBytes = DEFAULT_MAX_FILE): Promise<Uint8Array> {
    const { clean } = this.key(rel);
    const st = this.known.get(clean) ?? (await this.stat(clean));
    if (!st) throw new LakemapError('NOT_FOUND', `${this.root}/${clean} not found`, { path: clean });
    if (st.size > maxBytes) throw corruptFile(clean, `file is ${st.size} bytes, more than the ${maxBytes} allowed for it`);
    return this.read(clean, 0, st.size);
  }

  /**
   * The last `min(size, want)` bytes of an object in one ranged GET with an explicit range, using
   * the size the listing gave (a HEAD only for a path never listed). When the object changed size
   * since the listing, the tail is read again at the new size.
   */
  async readTail(rel: string, want: number): Promise<ObjectTail> {
    const { clean, key } = this.key(rel);
    let size = this.known.get(clean)?.size;
    if (size === undefined) {
      const st = await this.stat(clean);
      if (!st) throw new LakemapError('NOT_FOUND', `${this.root}/${clean} not found`, { path: clean });
      size = st.size;
    }
    for (let tries = 0; ; tries++) {
      const n = Math.min(size, want);
      if (n === 0) {
        const info = this.known.get(clean)!;
        const etag = normalizeEtag(info.etag);
        return { tail: new Uint8Array(0), size: 0, mtimeMs: info.mtimeMs, ...(etag ? { etag } : {}) };
      }
      const r = await this.call(clean, (s) => this.backend.getRange(key, size! - n, size! - 1, s));
      if (r.total === size && r.bytes.length === n) {
        // The listing's mtime, not the response's: a listing may be finer than the Last-Modified header,
        // and the next listing is what the manifest is compared with.
        const listed = this.known.get(clean);
        const etag = normalizeEtag(r.etag) ?? listed?.etag;
        const mtimeMs = listed && (etag === undefined || listed.etag === etag) ? listed.mtimeMs : r.mtimeMs;
        return { tail: r.bytes, size, mtimeMs, ...(etag ? { etag } : {}) };
      }
      if (tries >= 2) throw corruptFile(clean, `object keeps changing while its tail is read (size ${size}, then ${r.total})`);
      size = r.total;
    }
  }

  async list(dir = ''): Promise<FileStat[]> {
    const start = normalizeRelative(dir, this.root);
    const prefix = start === '' ? this.prefix : `${this.prefix}${start}/`;
    const out: FileStat[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(start === '' ? undefined : start, (s) => this.backend.listPage(prefix, token, s));
      for (const o of page.objects) {
        const rel = o.key.slice(this.prefix.length);
        if (!o.key.startsWith(this.prefix) || rel === '' || rel.endsWith('/')) continue;
        let clean: string;
        try {
          clean = normalizeRelative(rel, this.root);
        } catch {
          continue;
        }
        if (clean !== rel) continue;
        const etag = normalizeEtag(o.etag);
        this.known.set(clean, etag ? { ...o, etag } : o);
        out.push(toStat(clean, o));
      }
      token = page.next;
    } while (token);
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }
}

function toStat(path: string, o: ObjectInfo): FileStat {
  const st: FileStat = { path, size: o.size, mtimeMs: o.mtimeMs };
  const etag = normalizeEtag(o.etag);
  if (etag) st.etag = etag;
  return st;
}

/** An ETag without quotes or weak marker: listings and response headers spell them differently. */
export function normalizeEtag(etag: string | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** Parses `bytes a-b/total` (or an unsatisfied-range answer); undefined when absent or malformed. */
export function contentRangeTotal(header: string | undefined): number | undefined {
  const m = header ? /\/(\d+)\s*$/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}

/** The HTTP status and service error code of an SDK error, whatever the SDK. */
export function errorFacts(err: unknown): { status?: number; code?: string; message: string } {
  const e = err as { $metadata?: { httpStatusCode?: number }; statusCode?: number; code?: string; name?: string; Code?: string; message?: string; cause?: { code?: string } };
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode;
  const code = e?.Code ?? e?.code ?? e?.cause?.code ?? (e?.name && e.name !== 'Error' ? e.name : undefined);
  const facts: { status?: number; code?: string; message: string } = { message: String(e?.message ?? err) };
  if (status !== undefined) facts.status = status;
  if (code !== undefined) facts.code = code;
  return facts;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'ServerBusy', 'OperationTimedOut', 'InternalError', 'ServiceUnavailable']);

/** Throttling, server errors and connection failures are worth another try; the rest are not. */
export function isTransient(err: unknown): boolean {
  const f = errorFacts(err);
  if (f.status !== undefined && (f.status === 429 || f.status >= 500)) return true;
  if (f.code && (NETWORK_CODES.has(f.code) || THROTTLE_CODES.has(f.code))) return true;
  return /socket hang up|ECONNRESET|network/i.test(f.message) && f.status === undefined;
}

/** Maps a service error onto a stable code, naming the URL; `detail` must already be free of secrets. */
export function storageError(kind: 'bucket' | 'container', url: string, path: string | undefined, facts: { status?: number; code?: string }, detail: string, cause: unknown): LakemapError {
  const code = facts.code ?? '';
  const opts = path === undefined ? { path: url } : { path };
  const why = `${code || `HTTP ${facts.status ?? '?'}`}${detail ? `: ${detail}` : ''}`;
  if (/^(NoSuchBucket|ContainerNotFound)$/.test(code)) return new LakemapError('BUCKET_NOT_FOUND', `${url}: the ${kind} does not exist (${why})`, opts);
  if (/Expired|TokenRefreshRequired/i.test(code) || (facts.status === 403 && /expir|time frame/i.test(detail))) {
    return new LakemapError('CREDENTIALS_EXPIRED', `${url}: the credentials have expired; renew them (${why})`, opts);
  }
  if (
    facts.status === 401 || facts.status === 403 ||
    /^(AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|AuthenticationFailed|AuthorizationFailure|AuthorizationPermissionMismatch|CredentialsProviderError|InvalidToken)$/.test(code)
  ) {
    return new LakemapError('ACCESS_DENIED', `${url}: access denied; check the credentials and their permissions (${why})`, opts);
  }
  if (facts.status === 404 || /^(NoSuchKey|BlobNotFound|NotFound)$/.test(code)) return new LakemapError('NOT_FOUND', `${url} not found (${why})`, opts);
  void cause; // not attached: SDK errors carry request details that may hold secrets
  return new LakemapError('IO_ERROR', `${url}: request failed (${why})`, opts);
}

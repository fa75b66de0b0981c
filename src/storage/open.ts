/**
 * One entry point for every source URL: local paths, `s3://`, `az://` / `abfss://`, and any scheme a
 * user plugs in with a {@link StorageFactory}.
 * @module
 */
import { LakemapError } from '../errors.js';
import type { SourceStorage } from '../scanner.js';
import { LocalStorage } from './local.js';
import type { StorageOptions } from './options.js';

/** What a {@link StorageFactory} is given besides the URL. */
export interface StorageFactoryContext {
  /** Merged storage options (engine, then the collection's `storage_options`). */
  options: StorageOptions;
  /** Aborted when the refresh is cancelled. */
  signal?: AbortSignal;
}

/**
 * Opens a user's own {@link SourceStorage} for a URL of the scheme it is registered under, e.g.
 * `{ gs: (url, ctx) => new MyGcsStorage(url, ctx.options) }`. Called once per refresh.
 */
export type StorageFactory = (url: string, ctx: StorageFactoryContext) => SourceStorage | Promise<SourceStorage>;

/** Options of {@link openStorage}. */
export interface OpenStorageOptions extends StorageOptions {
  /** Aborts every request in flight and every retry wait. */
  signal?: AbortSignal;
  /** Extra backends by URL scheme (without `://`); one given for `s3` or `az` replaces the built-in. */
  storage?: Record<string, StorageFactory>;
}

/** Schemes with a built-in backend. */
export const BUILTIN_SCHEMES: readonly string[] = ['s3', 's3a', 'az', 'azure', 'abfs', 'abfss'];

/** The lower-case scheme of a URL (`s3` of `s3://b/p`), or undefined for a path. */
export function urlScheme(source: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * Opens the storage of a source: `s3://bucket/prefix`, `az://container/prefix`,
 * `abfss://container@account.dfs.core.windows.net/prefix`, a scheme of `options.storage`, or an
 * absolute local directory. The S3 and Azure SDKs are loaded on first use.
 *
 * @example
 * ```ts
 * import { openStorage } from 'lakemap';
 * const lake = await openStorage('s3://lake/trips', { endpoint: 'http://127.0.0.1:9000', concurrency: 32 });
 * const files = await lake.list();
 * ```
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<SourceStorage> {
  const { signal, storage, ...rest } = options;
  const scheme = urlScheme(url);
  const custom = scheme !== undefined && storage && Object.hasOwn(storage, scheme) ? storage[scheme] : undefined;
  if (custom) return custom(url, { options: rest, ...(signal ? { signal } : {}) });
  if (scheme === 's3' || scheme === 's3a') return (await import('./s3.js')).openS3(url, rest, signal);
  if (scheme === 'az' || scheme === 'azure' || scheme === 'abfs' || scheme === 'abfss') return (await import('./azure.js')).openAzure(url, rest, signal);
  if (scheme === undefined || scheme === 'file') {
    if (scheme === 'file') return new LocalStorage(new URL(url).pathname);
    return new LocalStorage(url);
  }
  throw new LakemapError('INVALID_SOURCE', `${url}: no storage for scheme ${scheme}:// (built in: s3, az, abfss; plug one in with the engine's storage option)`);
}

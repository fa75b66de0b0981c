/**
 * Options of object-store sources, and the lazy loading of their optional SDKs.
 * @module
 */
import { LakemapError } from '../errors.js';
import type { RequestPolicyOptions } from './request-policy.js';

/**
 * How to reach an object store. Anything left out comes from the SDK's standard chain (environment
 * variables, profiles, instance roles). Request tuning (`concurrency`, `retries`, `timeoutMs` …)
 * applies to every backend.
 */
export interface StorageOptions extends RequestPolicyOptions {
  /** S3: endpoint URL of an S3-compatible server (default `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`). */
  endpoint?: string;
  /** S3: region (default `AWS_REGION`, else `us-east-1`). */
  region?: string;
  /** S3: path-style addressing (default: on when an endpoint is set). */
  forcePathStyle?: boolean;
  /** S3: access key id (secret-bearing options are kept in memory only). */
  accessKeyId?: string;
  /** S3: secret access key. */
  secretAccessKey?: string;
  /** S3: session token of temporary credentials. */
  sessionToken?: string;
  /** Azure: a storage connection string (default `AZURE_STORAGE_CONNECTION_STRING`). */
  connectionString?: string;
  /** Azure: account name (default from the URL or `AZURE_STORAGE_ACCOUNT`). */
  accountName?: string;
  /** Azure: account key (default `AZURE_STORAGE_KEY`). */
  accountKey?: string;
  /** Azure: a SAS token (default `AZURE_STORAGE_SAS_TOKEN`). */
  sasToken?: string;
  /** Azure: blob service URL (default `https://<account>.blob.core.windows.net`). */
  blobEndpoint?: string;
}

/** Keys of {@link StorageOptions} that hold secrets: refused in an external spec, which is written to manifests. */
export const SECRET_OPTION_KEYS: readonly string[] = ['accessKeyId', 'secretAccessKey', 'sessionToken', 'connectionString', 'accountKey', 'sasToken'];

const KNOWN_KEYS = new Set([
  'concurrency', 'retries', 'timeoutMs', 'backoffMs', 'maxBackoffMs', 'endpoint', 'region', 'forcePathStyle', 'blobEndpoint', 'accountName',
  ...SECRET_OPTION_KEYS,
]);

/**
 * Reads the `storage_options` key of an external spec: an object of non-secret {@link StorageOptions}.
 * Secrets are refused there because the spec is stored in every manifest and job record.
 */
export function specStorageOptions(spec: { [key: string]: unknown }): StorageOptions {
  const raw = spec.storage_options;
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LakemapError('INVALID_SPEC', 'storage_options must be an object of storage options');
  }
  for (const k of Object.keys(raw)) {
    if (SECRET_OPTION_KEYS.includes(k)) {
      throw new LakemapError('INVALID_SPEC', `storage_options.${k} holds a secret and the spec is written into manifests; give it in the engine's storageOptions or the environment`);
    }
    if (!KNOWN_KEYS.has(k)) throw new LakemapError('INVALID_SPEC', `storage_options.${k} is not a storage option; known: ${[...KNOWN_KEYS].filter((x) => !SECRET_OPTION_KEYS.includes(x)).join(', ')}`);
  }
  return raw as StorageOptions;
}

/** Imports an optional peer dependency, or fails with `MISSING_DEPENDENCY` naming the package to install. */
export async function loadOptional<T>(pkg: string, forWhat: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new LakemapError('MISSING_DEPENDENCY', `${forWhat} sources need the optional package ${pkg}: run npm install ${pkg}`);
    }
    throw e;
  }
}

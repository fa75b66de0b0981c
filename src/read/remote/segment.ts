/**
 * Reading segments of a collection whose source is in object storage (S3, Azure Blob): the storage
 * is opened with the engine's storage options and the spec's, as a refresh opens it, and each file
 * is an {@link ObjectFile} checked against the identity its manifest entry recorded.
 */
import type { RecordBatch } from 'apache-arrow';
import { LakemapError } from '../../errors.js';
import { ObjectStorage } from '../../storage/object-store.js';
import { openStorage, urlScheme, type OpenStorageOptions } from '../../storage/open.js';
import { specStorageOptions } from '../../storage/options.js';
import type { Manifest, ManifestFile } from '../../types.js';
import type { IcebergFiles } from '../iceberg.js';
import { readIcebergRange } from '../iceberg.js';
import type { IcebergDeleteCache } from '../iceberg-delete-cache.js';
import { manifestArrowSchema } from '../../manifest/schema.js';
import { outputColumns, resolveSegment } from '../segment.js';
import { DEFAULT_READ_BUDGET, checkRead } from '../source-file.js';
import { ObjectFile } from './object-file.js';
import { loadParquetFooter, readParquetObject } from './parquet.js';
import { readVortexObject } from './vortex.js';

/** What a remote read needs from the caller. */
export interface ObjectReadOptions {
  columns?: string[] | undefined;
  signal?: AbortSignal | undefined;
  readBudgetBytes?: number | undefined;
  /** Iceberg delete files loaded by the read call (readCollection reads each once). */
  deleteCache?: IcebergDeleteCache | undefined;
}

/** True when the manifest's source is a URL other than `file://` (read through {@link openObjectSource}). */
export function isObjectSource(manifest: Manifest): boolean {
  const scheme = urlScheme(manifest.resolvedSource);
  return scheme !== undefined && scheme !== 'file';
}

/** An open object source; `close()` aborts whatever is still in flight. */
export interface ObjectSource {
  storage: ObjectStorage;
  close(): void;
}

/**
 * Opens the manifest's source with `storage` (the engine's options) and the spec's `storage_options`.
 * Every request runs under the storage's request policy, tied to `signal` and to `close()`.
 */
export async function openObjectSource(manifest: Manifest, storage: OpenStorageOptions | undefined, signal: AbortSignal | undefined): Promise<ObjectSource> {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal!.reason);
  if (signal?.aborted) throw new LakemapError('CANCELLED', `reading ${manifest.resolvedSource} was cancelled`);
  signal?.addEventListener('abort', onAbort, { once: true });
  const close = (): void => {
    signal?.removeEventListener('abort', onAbort);
    ctl.abort();
  };
  try {
    const opened = await openStorage(manifest.resolvedSource, { ...storage, ...specStorageOptions(manifest.externalSpec), signal: ctl.signal });
    if (!(opened instanceof ObjectStorage)) {
      throw new LakemapError('UNSUPPORTED', `${manifest.resolvedSource}: reading rows through a storage plugged in for ${urlScheme(manifest.resolvedSource)}:// is not supported (built-in s3:// and az:// storages only)`, { path: manifest.resolvedSource });
    }
    return { storage: opened, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** The live rows of segment `segmentId`, read from object storage. */
export async function* readObjectSegment(storage: ObjectStorage, manifest: Manifest, segmentId: string, options: ObjectReadOptions): AsyncGenerator<RecordBatch> {
  const seg = resolveSegment(manifest, segmentId);
  const { schema, columns } = outputColumns(manifest, options.columns);
  const req = { rowOffset: seg.rowOffset, rows: seg.rows, columns, schema, signal: options.signal };
  const budget = options.readBudgetBytes;
  switch (manifest.format) {
    case 'parquet':
      yield* readParquetObject(mappedFile(storage, manifest, seg.file, budget), req);
      return;
    case 'vortex':
      yield* readVortexObject(mappedFile(storage, manifest, seg.file, budget), req);
      return;
    case 'iceberg-table':
      yield* readIcebergRange(seg.file, seg, { schema, columns, table: manifestArrowSchema(manifest) }, options, objectIcebergFiles(storage, manifest, budget));
      return;
    case 'lance-table':
      throw new LakemapError('UNSUPPORTED', `${manifest.resolvedSource}: reading lance rows from ${urlScheme(manifest.resolvedSource)}:// sources is not supported yet (local and mounted sources only)`, { path: manifest.resolvedSource });
    default:
      throw new LakemapError('UNSUPPORTED', `reading rows of format "${manifest.format}" is not supported`);
  }
}

/** A file as the manifest recorded it: size, and ETag (or mtime) when the listing gave them. */
function mappedFile(storage: ObjectStorage, manifest: Manifest, file: ManifestFile, budget: number | undefined): ObjectFile {
  return new ObjectFile(storage, file.path, { size: file.sizeBytes, etag: file.etag, mtimeMs: file.mtimeMs, by: `manifest version ${manifest.version}` }, budget);
}

/**
 * Iceberg files in object storage. A data file's size is the one its Iceberg manifest recorded; a
 * position delete file's size is not kept in the collection manifest, so it costs one HEAD.
 */
function objectIcebergFiles(storage: ObjectStorage, manifest: Manifest, budget: number | undefined): IcebergFiles {
  return {
    async *parquet(path, known, request) {
      let file: ObjectFile;
      if (known) file = mappedFile(storage, manifest, { ...known, path }, budget);
      else {
        const st = await storage.stat(path);
        if (!st) throw new LakemapError('NOT_FOUND', `${storage.root}/${path} not found (a delete file of manifest version ${manifest.version}); refresh the collection`, { path });
        file = new ObjectFile(storage, path, { size: st.size, etag: st.etag, mtimeMs: st.mtimeMs, by: 'its HEAD' }, budget);
      }
      const footer = await loadParquetFooter(file);
      yield* readParquetObject(file, request(footer), footer);
    },
    async bytes(path, offset, length, what) {
      checkRead({ rel: path, size: Number.MAX_SAFE_INTEGER, budget: budget ?? DEFAULT_READ_BUDGET }, offset, length, what);
      if (length === 0) return new Uint8Array(0);
      const r = await storage.readRange(path, offset, length);
      if (r.bytes.length !== length) throw new LakemapError('CORRUPT_FILE', `${path}: the object ended at byte ${offset + r.bytes.length} while reading ${what} at [${offset}, ${offset + length})`, { path });
      return r.bytes;
    },
  };
}

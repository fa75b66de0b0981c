/**
 * Reading a segment's rows: dispatch on the manifest's format. Parquet files (and iceberg's parquet
 * data files) go through our own decoder; lance through lancedb; vortex through our decoder of its
 * canonical encodings (others refused by name). Object-store sources (s3://, az://) feed the same
 * decoders with ranged GETs planned per row group (remote/); lance there is refused.
 */
import type { RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { Manifest } from '../types.js';
import { localIcebergFiles, readIcebergRange } from './iceberg.js';
import { IcebergDeleteCache } from './iceberg-delete-cache.js';
import { DEFAULT_READ_BUDGET } from './source-file.js';
import { readLanceSegments } from './lance.js';
import { readParquetRange } from './parquet/reader.js';
import { readVortexRange } from './vortex/reader.js';
import { manifestArrowSchema } from '../manifest/schema.js';
import { openManifestFile, outputColumns, resolveSegment } from './segment.js';
import { isObjectSource, openObjectSource, readObjectSegment } from './remote/segment.js';
import type { OpenStorageOptions } from '../storage/open.js';

/** Options shared by the readers. */
export interface ReadOptions {
  /** Fields to read (default all). */
  columns?: string[] | undefined;
  /** Cancels between batches. */
  signal?: AbortSignal | undefined;
  /** Largest single read in bytes; also bounds the Iceberg equality-delete keys held for a data file. */
  readBudgetBytes?: number | undefined;
  /** How to reach an object-store source: the engine's storage options (the spec's `storage_options` are added). */
  storage?: OpenStorageOptions | undefined;
}

/**
 * The live rows of segment `segmentId` of `manifest`, as record batches in file order. `deleteCache`:
 * Iceberg delete files already loaded by the read call this segment belongs to.
 */
export async function* readSegmentRows(manifest: Manifest, segmentId: string, options: ReadOptions = {}, deleteCache?: IcebergDeleteCache): AsyncGenerator<RecordBatch> {
  if (isObjectSource(manifest) && manifest.format !== 'lance-table') {
    const source = await openObjectSource(manifest, options.storage, options.signal);
    try {
      yield* readObjectSegment(source.storage, manifest, segmentId, { ...options, deleteCache });
    } finally {
      source.close();
    }
    return;
  }
  const seg = resolveSegment(manifest, segmentId);
  const { schema, columns } = outputColumns(manifest, options.columns);
  switch (manifest.format) {
    case 'parquet': {
      const file = openManifestFile(manifest, seg.file, options.readBudgetBytes);
      try {
        yield* readParquetRange(file, { rowOffset: seg.rowOffset, rows: seg.rows, columns, schema, signal: options.signal });
      } finally {
        file.close();
      }
      return;
    }
    case 'iceberg-table':
      yield* readIcebergRange(seg.file, seg, { schema, columns, table: manifestArrowSchema(manifest) }, { ...options, deleteCache }, localIcebergFiles(manifest, options.readBudgetBytes));
      return;
    case 'vortex': {
      const file = openManifestFile(manifest, seg.file, options.readBudgetBytes);
      try {
        yield* readVortexRange(file, { rowOffset: seg.rowOffset, rows: seg.rows, columns, schema, signal: options.signal });
      } finally {
        file.close();
      }
      return;
    }
    case 'lance-table':
      yield* readLanceSegments(manifest, [segmentId], options);
      return;
    default:
      throw new LakemapError('UNSUPPORTED', `reading rows of format "${manifest.format}" is not supported`);
  }
}

/** Every segment of `manifest` in order. */
export async function* readCollectionRows(manifest: Manifest, options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  if (manifest.format === 'lance-table') return yield* readLanceSegments(manifest, manifest.segments.map((s) => s.id), options); // opens the dataset once
  // an Iceberg delete file applying to many data files is read once for all their segments
  const deleteCache = new IcebergDeleteCache(options.readBudgetBytes ?? DEFAULT_READ_BUDGET);
  if (isObjectSource(manifest)) {
    const source = await openObjectSource(manifest, options.storage, options.signal); // one client for every segment
    try {
      for (const s of manifest.segments) yield* readObjectSegment(source.storage, manifest, s.id, { ...options, deleteCache });
    } finally {
      source.close();
      deleteCache.clear();
    }
    return;
  }
  try {
    for (const s of manifest.segments) yield* readSegmentRows(manifest, s.id, options, deleteCache);
  } finally {
    deleteCache.clear();
  }
}

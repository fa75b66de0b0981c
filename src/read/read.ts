/**
 * Reading a segment's rows: dispatch on the manifest's format. Parquet files (and iceberg's parquet
 * data files) go through our own decoder; lance through lancedb; vortex through our decoder of its
 * canonical encodings (others refused by name).
 */
import type { RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { Manifest } from '../types.js';
import { readIcebergRange } from './iceberg.js';
import { readLanceSegments } from './lance.js';
import { readParquetRange } from './parquet/reader.js';
import { readVortexRange } from './vortex/reader.js';
import { openManifestFile, outputColumns, resolveSegment } from './segment.js';

/** Options shared by the readers. */
export interface ReadOptions {
  /** Fields to read (default all). */
  columns?: string[] | undefined;
  /** Cancels between batches. */
  signal?: AbortSignal | undefined;
  /** Largest single read in bytes. */
  readBudgetBytes?: number | undefined;
}

/** The live rows of segment `segmentId` of `manifest`, as record batches in file order. */
export async function* readSegmentRows(manifest: Manifest, segmentId: string, options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
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
      yield* readIcebergRange(manifest, seg.file, seg, { schema, columns }, options);
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
  for (const s of manifest.segments) yield* readSegmentRows(manifest, s.id, options);
}

/**
 * Reads an Iceberg data file's live rows: the parquet rows minus its position deletes, deletion vectors
 * and equality deletes (iceberg-equality.ts). What cannot be applied exactly is refused, never ignored:
 * deleted rows are never returned silently. Each row group read gives one batch of its live rows
 * (live-rows.ts); the delete files are loaded once per read call (iceberg-delete-cache.ts).
 */
import { Schema, type RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { JsonObject } from '../scanner.js';
import type { Manifest, ManifestFile } from '../types.js';
import { readFooter, type ParquetFooter } from './parquet/footer.js';
import { readParquetRange, type ColumnRequest, type ParquetRangeRequest } from './parquet/reader.js';
import { equalityColumns, equalityMatcher, type EqualityColumns, type EqualityDeletes } from './iceberg-equality.js';
import { projectBatch, projectColumns, type Projection } from './iceberg-projection.js';
import { DeletedPositions } from './deleted-positions.js';
import { deletionVectorPositions } from './roaring.js';
import { openManifestFile } from './segment.js';
import { IcebergDeleteCache } from './iceberg-delete-cache.js';
import { liveRows } from './live-rows.js';
import { DEFAULT_READ_BUDGET } from './source-file.js';

interface DeleteRef {
  kind: string;
  path: string;
  contentOffset?: number;
  contentSize?: number;
  equalityIds?: number[];
}

/** How the Iceberg reader reaches its files: local (`localIcebergFiles`) or in object storage (remote/). */
export interface IcebergFiles {
  /**
   * Batches of a parquet file: the data file (`known`: its manifest entry, whose size is checked) or a
   * delete file (`known` undefined); the request is built from the file's footer.
   */
  parquet(path: string, known: ManifestFile | undefined, request: (footer: ParquetFooter) => ParquetRangeRequest): AsyncGenerator<RecordBatch>;
  /** Bytes `[offset, offset + length)` of a file (a deletion vector inside a Puffin file). */
  bytes(path: string, offset: number, length: number, what: string): Promise<Uint8Array>;
}

/** Iceberg files of a local (or mounted) source. */
export function localIcebergFiles(manifest: Manifest, budget: number | undefined): IcebergFiles {
  return {
    async *parquet(path, known, request) {
      const f = openManifestFile(manifest, known ?? { path, sizeBytes: -1, mtimeMs: 0 }, budget);
      try {
        const footer = readFooter(f);
        yield* readParquetRange(f, request(footer), footer);
      } finally {
        f.close();
      }
    },
    async bytes(path, offset, length, what) {
      const f = openManifestFile(manifest, { path, sizeBytes: -1, mtimeMs: 0 }, budget);
      try {
        return f.read(offset, length, what);
      } finally {
        f.close();
      }
    },
  };
}

/**
 * The live rows `[rowOffset, rowOffset + rows)` of an Iceberg data file. `out.table` is the table's
 * full schema (field ids, v3 defaults), used to resolve equality fields the data file lacks.
 */
export async function* readIcebergRange(
  file: ManifestFile,
  range: { rowOffset: number; rows: number },
  out: { schema: Schema; columns: ColumnRequest[]; table?: Schema | undefined },
  options: { signal?: AbortSignal | undefined; readBudgetBytes?: number | undefined; deleteCache?: IcebergDeleteCache | undefined },
  files: IcebergFiles,
): AsyncGenerator<RecordBatch> {
  const details = (file.details ?? {}) as JsonObject;
  const format = String(details['format'] ?? 'parquet');
  if (format !== 'parquet') throw new LakemapError('UNSUPPORTED', `${file.path}: Iceberg ${format} data files are not read (parquet only)`, { path: file.path });
  const deletes = ((details['deletes'] as unknown as DeleteRef[] | undefined) ?? []);
  const budget = options.readBudgetBytes ?? DEFAULT_READ_BUDGET;
  const cache = options.deleteCache ?? new IcebergDeleteCache(budget);
  const positional = deletes.filter((d) => d.kind !== 'equality');
  const equalityRefs = deletes.filter((d) => d.kind === 'equality');
  const inUse = IcebergDeleteCache.keysOf(positional.filter((d) => d.kind !== 'deletion-vector'), equalityRefs);
  if (positional.length > 0) cache.reserve(Math.ceil(file.rows / 8), inUse);
  const deleted = positional.length > 0 ? new DeletedPositions(file.path, file.rows, budget) : undefined;
  for (const d of positional) {
    if (d.kind === 'deletion-vector') for (const p of await vectorPositions(file, d, files)) deleted!.add(p, d.path);
    else await cache.positions(file, d, files, deleted!, inUse);
  }
  // the equality keys share the budget with the position bits
  const equality: EqualityDeletes | undefined =
    equalityRefs.length > 0 ? await cache.equality(file, equalityRefs, files, deleted?.bytes ?? 0, inUse, options.signal) : undefined;
  const eq = equality && equality.groups.length > 0 ? equality : undefined;
  const partitioned = Object.keys((details['partition'] as JsonObject | undefined) ?? {}).length > 0;
  let projection: Projection = { requests: out.columns, slots: out.columns.map((_, i) => i) };
  let eqColumns: EqualityColumns | undefined;
  const request = (footer: ParquetFooter): ParquetRangeRequest => {
    projection = projectColumns(file.path, footer, out.columns, partitioned);
    // the equality columns are read after the output's and dropped from the batches yielded
    eqColumns = eq ? equalityColumns(file.path, footer, eq, out.table, partitioned) : undefined;
    const columns = [...projection.requests, ...(eqColumns?.requests ?? [])];
    return { rowOffset: range.rowOffset, rows: range.rows, signal: options.signal, columns, schema: new Schema(columns.map((c) => c.field)) };
  };
  let row = range.rowOffset;
  for await (const read of files.parquet(file.path, file, request)) {
    const isDeleted = eq && eqColumns ? equalityMatcher(eq, eqColumns, read, projection.requests.length) : undefined;
    const batch = projectBatch(read, out.schema, projection);
    const first = row;
    row += batch.numRows;
    if (!deleted?.size && !isDeleted) {
      yield batch;
      continue;
    }
    yield* liveRows(batch, (i) => deleted?.has(first + i) === true || isDeleted?.(i) === true);
  }
}

/** Positions of a deletion vector blob inside a Puffin file. */
async function vectorPositions(file: ManifestFile, d: DeleteRef, files: IcebergFiles): Promise<number[]> {
  if (d.contentOffset === undefined || d.contentSize === undefined) {
    throw new LakemapError('CORRUPT_FILE', `${file.path}: deletion vector ${d.path} has no content offset or size`, { path: d.path });
  }
  const blob = await files.bytes(d.path, Number(d.contentOffset), Number(d.contentSize), 'the deletion vector');
  try {
    return deletionVectorPositions(blob, file.rows);
  } catch (e) {
    throw new LakemapError('CORRUPT_FILE', `${d.path}: deletion vector for ${file.path}: ${(e as Error).message}`, { path: d.path, cause: e });
  }
}

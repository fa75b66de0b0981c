/**
 * Reads an Iceberg data file's live rows: the parquet rows minus its position deletes, deletion vectors
 * and equality deletes (iceberg-equality.ts). What cannot be applied exactly is refused, never ignored:
 * deleted rows are never returned silently. Batches are the runs of live rows inside each row group.
 */
import { Schema, type RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { JsonObject } from '../scanner.js';
import type { Manifest, ManifestFile } from '../types.js';
import { readFooter, type ParquetFooter } from './parquet/footer.js';
import { readParquetRange, type ColumnRequest, type ParquetRangeRequest } from './parquet/reader.js';
import { equalityColumns, equalityMatcher, loadEqualityDeletes, type EqualityColumns, type EqualityDeletes } from './iceberg-equality.js';
import { projectBatch, projectColumns, type Projection } from './iceberg-projection.js';
import { deletionVectorPositions } from './roaring.js';
import { openManifestFile } from './segment.js';
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
  options: { signal?: AbortSignal | undefined; readBudgetBytes?: number | undefined },
  files: IcebergFiles,
): AsyncGenerator<RecordBatch> {
  const details = (file.details ?? {}) as JsonObject;
  const format = String(details['format'] ?? 'parquet');
  if (format !== 'parquet') throw new LakemapError('UNSUPPORTED', `${file.path}: Iceberg ${format} data files are not read (parquet only)`, { path: file.path });
  const deletes = ((details['deletes'] as unknown as DeleteRef[] | undefined) ?? []);
  const deleted = new Set<number>();
  for (const d of deletes) {
    if (d.kind === 'equality') continue;
    for (const p of d.kind === 'deletion-vector' ? await vectorPositions(file, d, files) : await positionDeletes(file, d, files)) deleted.add(p);
  }
  const equalityRefs = deletes.filter((d) => d.kind === 'equality');
  const budget = options.readBudgetBytes ?? DEFAULT_READ_BUDGET;
  const equality: EqualityDeletes | undefined = equalityRefs.length > 0 ? await loadEqualityDeletes(file, equalityRefs, files, budget, options.signal) : undefined;
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
    if (deleted.size === 0 && !isDeleted) {
      yield batch;
      row += batch.numRows;
      continue;
    }
    let start = 0;
    for (let i = 0; i <= batch.numRows; i++) {
      if (i === batch.numRows || deleted.has(row + i) || isDeleted?.(i)) {
        if (i > start) yield batch.slice(start, i);
        start = i + 1;
      }
    }
    row += batch.numRows;
  }
}

/** Rows of a position delete file (`file_path`, `pos`) that name this data file. */
async function positionDeletes(file: ManifestFile, d: DeleteRef, files: IcebergFiles): Promise<number[]> {
  const out: number[] = [];
  const suffix = `/${file.path}`;
  const request = (footer: ParquetFooter): ParquetRangeRequest => {
    const fields = ['file_path', 'pos'].map((name) => {
      const f = footer.schema.fields.find((x) => x.name === name);
      if (!f) throw new LakemapError('CORRUPT_FILE', `${d.path}: position delete file has no "${name}" column`, { path: d.path });
      return f;
    });
    const rows = footer.rowGroups.reduce((a, g) => a + g.numRows, 0);
    return { rowOffset: 0, rows, columns: fields.map((field) => ({ field, external: field.name })), schema: new Schema(fields) };
  };
  for await (const b of files.parquet(d.path, undefined, request)) {
    const paths = b.getChildAt(0)!;
    const pos = b.getChildAt(1)!;
    for (let i = 0; i < b.numRows; i++) {
      const p = String(paths.get(i));
      if (p === file.path || p.endsWith(suffix)) out.push(Number(pos.get(i)));
    }
  }
  return out;
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

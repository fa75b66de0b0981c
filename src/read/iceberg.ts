/**
 * Reads an Iceberg data file's live rows: the parquet rows minus its position deletes and deletion
 * vectors. Equality deletes are refused (`UNSUPPORTED`) rather than ignored: deleted rows are never
 * returned silently. Batches are the runs of live rows inside each row group.
 */
import { Schema, type RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { JsonObject } from '../scanner.js';
import type { Manifest, ManifestFile } from '../types.js';
import { readFooter, type ParquetFooter } from './parquet/footer.js';
import { readParquetRange, type ColumnRequest, type ParquetRangeRequest } from './parquet/reader.js';
import { deletionVectorPositions } from './roaring.js';
import { openManifestFile } from './segment.js';

interface DeleteRef {
  kind: string;
  path: string;
  contentOffset?: number;
  contentSize?: number;
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

/** The live rows `[rowOffset, rowOffset + rows)` of an Iceberg data file. */
export async function* readIcebergRange(
  file: ManifestFile,
  range: { rowOffset: number; rows: number },
  out: { schema: Schema; columns: ColumnRequest[] },
  options: { signal?: AbortSignal | undefined },
  files: IcebergFiles,
): AsyncGenerator<RecordBatch> {
  const details = (file.details ?? {}) as JsonObject;
  const format = String(details['format'] ?? 'parquet');
  if (format !== 'parquet') throw new LakemapError('UNSUPPORTED', `${file.path}: Iceberg ${format} data files are not read (parquet only)`, { path: file.path });
  const deletes = ((details['deletes'] as unknown as DeleteRef[] | undefined) ?? []);
  const equality = deletes.find((d) => d.kind === 'equality');
  if (equality) {
    throw new LakemapError('UNSUPPORTED', `${file.path}: equality deletes (${equality.path}) are not applied yet; refusing the segment rather than returning deleted rows`, { path: file.path });
  }
  const deleted = new Set<number>();
  for (const d of deletes) {
    for (const p of d.kind === 'deletion-vector' ? await vectorPositions(file, d, files) : await positionDeletes(file, d, files)) deleted.add(p);
  }
  let row = range.rowOffset;
  const request = (): ParquetRangeRequest => ({ rowOffset: range.rowOffset, rows: range.rows, columns: out.columns, schema: out.schema, signal: options.signal });
  for await (const batch of files.parquet(file.path, file, request)) {
    if (deleted.size === 0) {
      yield batch;
      row += batch.numRows;
      continue;
    }
    let start = 0;
    for (let i = 0; i <= batch.numRows; i++) {
      if (i === batch.numRows || deleted.has(row + i)) {
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

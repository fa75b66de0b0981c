/**
 * Reads an Iceberg data file's live rows: the parquet rows minus its position deletes and deletion
 * vectors. Equality deletes are refused (`UNSUPPORTED`) rather than ignored: deleted rows are never
 * returned silently. Batches are the runs of live rows inside each row group.
 */
import { Schema, type RecordBatch } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { JsonObject } from '../scanner.js';
import type { Manifest, ManifestFile } from '../types.js';
import { readFooter } from './parquet/footer.js';
import { readParquetRange, type ColumnRequest } from './parquet/reader.js';
import { deletionVectorPositions } from './roaring.js';
import { openManifestFile } from './segment.js';

interface DeleteRef {
  kind: string;
  path: string;
  contentOffset?: number;
  contentSize?: number;
}

/** The live rows `[rowOffset, rowOffset + rows)` of an Iceberg data file. */
export function* readIcebergRange(
  manifest: Manifest,
  file: ManifestFile,
  range: { rowOffset: number; rows: number },
  out: { schema: Schema; columns: ColumnRequest[] },
  options: { signal?: AbortSignal | undefined; readBudgetBytes?: number | undefined },
): Generator<RecordBatch> {
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
    for (const p of d.kind === 'deletion-vector' ? vectorPositions(manifest, file, d, options) : positionDeletes(manifest, file, d, options)) deleted.add(p);
  }
  const data = openManifestFile(manifest, file, options.readBudgetBytes);
  try {
    let row = range.rowOffset;
    for (const batch of readParquetRange(data, { rowOffset: range.rowOffset, rows: range.rows, columns: out.columns, schema: out.schema, signal: options.signal })) {
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
  } finally {
    data.close();
  }
}

/** Rows of a position delete file (`file_path`, `pos`) that name this data file. */
function positionDeletes(manifest: Manifest, file: ManifestFile, d: DeleteRef, options: { readBudgetBytes?: number | undefined }): number[] {
  const del = openManifestFile(manifest, { ...file, path: d.path }, options.readBudgetBytes);
  try {
    const footer = readFooter(del);
    const fields = ['file_path', 'pos'].map((name) => {
      const f = footer.schema.fields.find((x) => x.name === name);
      if (!f) throw new LakemapError('CORRUPT_FILE', `${d.path}: position delete file has no "${name}" column`, { path: d.path });
      return f;
    });
    const schema = new Schema(fields);
    const rows = footer.rowGroups.reduce((a, g) => a + g.numRows, 0);
    const out: number[] = [];
    const suffix = `/${file.path}`;
    for (const b of readParquetRange(del, { rowOffset: 0, rows, columns: fields.map((field) => ({ field, external: field.name })), schema }, footer)) {
      const paths = b.getChildAt(0)!;
      const pos = b.getChildAt(1)!;
      for (let i = 0; i < b.numRows; i++) {
        const p = String(paths.get(i));
        if (p === file.path || p.endsWith(suffix)) out.push(Number(pos.get(i)));
      }
    }
    return out;
  } finally {
    del.close();
  }
}

/** Positions of a deletion vector blob inside a Puffin file. */
function vectorPositions(manifest: Manifest, file: ManifestFile, d: DeleteRef, options: { readBudgetBytes?: number | undefined }): number[] {
  if (d.contentOffset === undefined || d.contentSize === undefined) {
    throw new LakemapError('CORRUPT_FILE', `${file.path}: deletion vector ${d.path} has no content offset or size`, { path: d.path });
  }
  const puffin = openManifestFile(manifest, { ...file, path: d.path }, options.readBudgetBytes);
  try {
    const blob = puffin.read(Number(d.contentOffset), Number(d.contentSize), 'the deletion vector');
    try {
      return deletionVectorPositions(blob, file.rows);
    } catch (e) {
      throw new LakemapError('CORRUPT_FILE', `${d.path}: deletion vector for ${file.path}: ${(e as Error).message}`, { path: d.path, cause: e });
    }
  } finally {
    puffin.close();
  }
}

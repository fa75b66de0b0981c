/**
 * Reads a row range of a parquet object with the same decoder as local files: the footer from one
 * tail GET (a second only for a footer longer than the tail), then per row group exactly the requested
 * columns' chunks, fetched before the row group is decoded; the next row group's chunks are fetched
 * while the current one is decoded, so at most two row groups of requested columns are held.
 */
import type { RecordBatch } from 'apache-arrow';
import { locateFooter } from '../../../scanners/parquet/footer.js';
import { readFooter, type ParquetFooter } from '../parquet/footer.js';
import { readParquetRange, rowGroupReads, type ParquetRangeRequest } from '../parquet/reader.js';
import { checkRead } from '../source-file.js';
import type { ObjectFile } from './object-file.js';
import { fetchAhead } from './pipeline.js';

/** Bytes fetched from the end of the object first: most footers lie inside. */
export const PARQUET_TAIL_BYTES = 64 * 1024;

/** The footer of a parquet object: its length is checked against the size and the budget before the rest is fetched. */
export async function loadParquetFooter(file: ObjectFile): Promise<ParquetFooter> {
  if (file.size < 12) locateFooter(file.rel, file.size, new Uint8Array(0)); // throws: too small for parquet
  const n = Math.min(file.size, Math.max(8, Math.min(PARQUET_TAIL_BYTES, file.budget)));
  const tailStart = file.size - n;
  const [tail] = await file.fetch([[tailStart, file.size]], 'the footer tail');
  const loc = locateFooter(file.rel, file.size, tail!.bytes.subarray(n - 8));
  checkRead(file, loc.offset, loc.length, 'the footer');
  let piece = tail!;
  if (loc.offset < tailStart) {
    const [head] = await file.fetch([[loc.offset, tailStart]], 'the footer');
    const bytes = new Uint8Array(file.size - loc.offset);
    bytes.set(head!.bytes, 0);
    bytes.set(tail!.bytes, tailStart - loc.offset);
    file.drop([head!, tail!]);
    piece = { start: loc.offset, bytes };
  }
  file.hold([piece]);
  try {
    return readFooter(file);
  } finally {
    file.drop([piece]);
  }
}

/** Yields the batches of `req` from a parquet object (footer loaded here unless given). */
export async function* readParquetObject(file: ObjectFile, req: ParquetRangeRequest, footer?: ParquetFooter): AsyncGenerator<RecordBatch> {
  footer ??= await loadParquetFooter(file);
  const steps = rowGroupReads(footer, req).map((g) => ({ ranges: g.ranges, what: `row group ${g.group}` }));
  yield* fetchAhead(file, steps, readParquetRange(file, req, footer), req.signal);
}

/**
 * The live rows of one batch read with deletes, as one batch: scattered deletes no longer split a row
 * group into a batch per run between them. The rows are copied into compact data (take.ts), so a batch
 * is never larger than the row group read; a single run stays a zero-copy slice. A column type the
 * copy does not build is yielded as before, one slice per run.
 */
import { RecordBatch, Struct, makeData } from 'apache-arrow';
import { takeRuns, takeable, type Runs } from './take.js';

/** The runs of rows `i` of `[0, n)` for which `deleted(i)` is false. */
export function liveRuns(n: number, deleted: (i: number) => boolean): Runs {
  let starts: Int32Array<ArrayBuffer> = new Int32Array(16);
  let ends: Int32Array<ArrayBuffer> = new Int32Array(16);
  let count = 0;
  let rows = 0;
  let start = -1;
  for (let i = 0; i <= n; i++) {
    const dead = i === n || deleted(i);
    if (!dead) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    if (count === starts.length) {
      starts = grow(starts);
      ends = grow(ends);
    }
    starts[count] = start;
    ends[count++] = i;
    rows += i - start;
    start = -1;
  }
  return { starts, ends, count, rows };
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The rows of `batch` for which `deleted(i)` is false, in order: none, or one batch (slices for types not copied). */
export function* liveRows(batch: RecordBatch, deleted: (i: number) => boolean): Generator<RecordBatch> {
  const runs = liveRuns(batch.numRows, deleted);
  if (runs.rows === batch.numRows) {
    yield batch;
    return;
  }
  if (runs.count === 0) return;
  if (runs.count === 1) {
    yield batch.slice(runs.starts[0]!, runs.ends[0]!);
    return;
  }
  if (!batch.schema.fields.every((f) => takeable(f.type))) {
    for (let k = 0; k < runs.count; k++) yield batch.slice(runs.starts[k]!, runs.ends[k]!);
    return;
  }
  const children = batch.data.children.map((c) => takeRuns(c, runs));
  yield new RecordBatch(batch.schema, makeData({ type: new Struct(batch.schema.fields), length: runs.rows, nullCount: 0, children }));
}

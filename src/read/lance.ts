/**
 * Reads the live rows of lance-table segments through lancedb, at the dataset version the manifest
 * pinned (see {@link openLanceTable} for why lancedb only ever connects to a private temp dir).
 *
 * A segment that is a whole fragment (every lance segment the engine writes today) is read as
 * `offset(live rows of the fragments before it).limit(its live rows)`: Lance turns that range into a
 * scan of that one fragment, deletions applied. A partial range of a fragment is read with
 * `_rowaddr` bounds (`fragment id << 32 | row`), which Lance evaluates against physical row positions,
 * so deleted rows inside the range are skipped. Both were checked on datasets with deletions against
 * lancedb's own full scan (test/read-lance.test.ts).
 */
import { RecordBatch, Schema, Struct, Type, makeData, tableFromIPC, util, type Data, type DataType, type Field } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { Manifest } from '../types.js';
import type { ColumnRequest } from './parquet/reader.js';
import type { ReadOptions } from './read.js';
import { lanceDatasetDir, loadLanceDb, openLanceTable, pinnedFragments, type PinnedFragment } from './lance-dataset.js';
import { outputColumns, resolveSegment, type ResolvedSegment } from './segment.js';

/** Rows per batch asked of lancedb: large enough to keep per-batch overhead low, a few MiB for a 128-float vector. */
const MAX_BATCH_ROWS = 16_384;

interface NativeIterator {
  next(): Promise<Uint8Array | null>;
}

/**
 * The live rows of segments `segmentIds` of a lance-table `manifest`, in order; the dataset is
 * opened once for all of them.
 */
export async function* readLanceSegments(manifest: Manifest, segmentIds: readonly string[], options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  const segs = segmentIds.map((id) => resolveSegment(manifest, id));
  const out = outputColumns(manifest, options.columns);
  if (segs.length === 0) return;
  cancelled(options.signal, manifest.resolvedSource);
  const dir = lanceDatasetDir(manifest);
  const pinned = await pinnedFragments(manifest, dir);
  const lancedb = await loadLanceDb();
  cancelled(options.signal, dir);
  const opened = await openLanceTable(lancedb, dir, Number(manifest.tableVersion));
  try {
    for (const seg of segs) yield* readRange(opened.table, dir, pinned.get(seg.file.path)!, seg, out, options.signal);
  } finally {
    opened.close();
  }
}

async function* readRange(
  table: import('@lancedb/lancedb').Table,
  dir: string,
  frag: PinnedFragment,
  seg: ResolvedSegment,
  out: { schema: Schema; columns: ColumnRequest[] },
  signal: AbortSignal | undefined,
): AsyncGenerator<RecordBatch> {
  const whole = seg.rowOffset === 0 && seg.rows === frag.file.rows;
  if (whole && frag.file.liveRows === 0) return; // limit(0) would mean "no limit"
  const where = `${dir} fragment ${frag.fragmentId} rows [${seg.rowOffset}, ${seg.rowOffset + seg.rows})`;
  // With no column asked for, the first one is read for the row count and dropped.
  const select = out.columns.length > 0 ? out.columns.map((c) => c.external) : [firstColumn(await table.schema())];
  let query = table.query().select(select);
  if (whole) query = query.offset(frag.liveRowsBefore).limit(frag.file.liveRows);
  else {
    const base = frag.fragmentId << 32n;
    query = query.where(`_rowaddr >= ${base + BigInt(seg.rowOffset)} AND _rowaddr < ${base + BigInt(seg.rowOffset + seg.rows)}`);
  }
  // lancedb hands back Arrow IPC buffers and decodes them with its own (CommonJS) apache-arrow; they are
  // decoded here with ours instead, so the batches are this process's Arrow classes (and decoded once).
  const exec = (query as unknown as { nativeExecute?: (o: { maxBatchLength: number }) => Promise<NativeIterator> }).nativeExecute;
  if (typeof exec !== 'function') throw new LakemapError('UNSUPPORTED', `${dir}: this @lancedb/lancedb has no nativeExecute; lakemap reads through 0.31.0`, { path: dir });
  let iterator: NativeIterator;
  try {
    iterator = await exec.call(query, { maxBatchLength: MAX_BATCH_ROWS });
  } catch (e) {
    throw lanceError(where, e);
  }
  let rows = 0;
  let checked = false;
  for (;;) {
    cancelled(signal, dir);
    let buf: Uint8Array | null;
    try {
      buf = await iterator.next();
    } catch (e) {
      throw lanceError(where, e);
    }
    if (!buf) break;
    for (const b of tableFromIPC(buf).batches) {
      if (b.numRows === 0) continue;
      if (!checked) {
        checkTypes(dir, out.columns, b);
        checked = true;
      }
      rows += b.numRows;
      const children: Data[] = out.columns.map((c, i) => b.data.children[i]!.clone(c.field.type));
      yield new RecordBatch(out.schema, makeData({ type: new Struct(out.schema.fields), length: b.numRows, nullCount: 0, children }));
    }
  }
  if (whole && rows !== frag.file.liveRows) {
    throw new LakemapError('SOURCE_CHANGED', `${where}: lancedb returned ${rows} rows where the manifest maps ${frag.file.liveRows} live rows: refresh the collection`, { path: dir });
  }
}

function firstColumn(schema: { fields: { name: string }[] }): string {
  const f = schema.fields[0];
  if (!f) throw new LakemapError('UNSUPPORTED', 'the Lance dataset has no columns');
  return f.name;
}

function cancelled(signal: AbortSignal | undefined, dir: string): void {
  if (signal?.aborted) throw new LakemapError('CANCELLED', `reading ${dir} was cancelled`, { path: dir });
}

function lanceError(where: string, e: unknown): LakemapError {
  if (e instanceof LakemapError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (/not found|No such file/i.test(msg)) {
    return new LakemapError('SOURCE_CHANGED', `${where}: a file of the dataset is gone (${msg}): refresh the collection`, { cause: e });
  }
  return new LakemapError('IO_ERROR', `${where}: lancedb failed: ${msg}`, { cause: e });
}

/** Each column lancedb returned must hold the collection field's type (child names and nullability aside). */
function checkTypes(dir: string, columns: ColumnRequest[], b: RecordBatch): void {
  columns.forEach((c, i) => {
    const got = b.schema.fields[i];
    if (!got || got.name !== c.external) {
      throw new LakemapError('FIELD_NOT_FOUND', `${dir}: lancedb returned ${got ? `column "${got.name}"` : 'no column'} where "${c.external}" (field "${c.field.name}") was asked for`, { path: dir });
    }
    if (!sameType(c.field.type, got.type)) {
      throw new LakemapError('SCHEMA_MISMATCH', `${dir}: column "${c.external}" is ${String(got.type)} in the dataset, the collection reads it as ${String(c.field.type)}`, { path: dir });
    }
  });
}

function sameType(a: DataType, b: DataType): boolean {
  if ((util.compareTypes as (x: DataType, y: DataType) => boolean)(a, b)) return true;
  if (a.typeId !== b.typeId) return false;
  const ac = (a.children ?? []) as Field[];
  const bc = (b.children ?? []) as Field[];
  if (a.typeId === Type.FixedSizeList && (a as unknown as { listSize: number }).listSize !== (b as unknown as { listSize: number }).listSize) return false;
  if ((a.typeId === Type.List || a.typeId === Type.FixedSizeList) && ac.length === 1 && bc.length === 1) return sameType(ac[0]!.type, bc[0]!.type);
  if (a.typeId === Type.Struct && ac.length === bc.length) return ac.every((f, i) => f.name === bc[i]!.name && sameType(f.type, bc[i]!.type));
  return false;
}

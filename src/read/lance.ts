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
 *
 * Every batch also carries its rows' `_rowaddr` (dropped from the output), checked to lie in the
 * segment's range and to increase before the batch is handed out: on some Lance 0.16 datasets the
 * offset lands on the wrong rows (or none), and the fragment is then read by `_rowaddr` bounds instead.
 */
import { RecordBatch, Schema, Struct, Type, makeData, tableFromIPC, util, type Data, type DataType, type Field } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { Manifest } from '../types.js';
import type { ColumnRequest } from './parquet/reader.js';
import type { ReadOptions } from './read.js';
import { lanceDatasetDir, loadLanceDb, openLanceTable, pinnedFragments, type PinnedFragment } from './lance-dataset.js';
import { outputColumns, resolveSegment, type ResolvedSegment } from './segment.js';

/**
 * Rows per batch asked of lancedb: 2 MiB of a 128-float vector. Lance decodes batches in parallel;
 * at 16,384 rows a 524k-row fragment read took ~1.5–2× as long as at 1,024–4,096 (measured here).
 */
const MAX_BATCH_ROWS = 4096;

/**
 * A whole fragment is read by `_rowaddr` bounds when it has at least this many live rows per fragment
 * of the dataset (measured: the address sweep costs ≈0.1 ms per fragment, offset/limit ≈2.5 µs per row
 * more than the parallel decode), else by offset/limit.
 */
const ADDRESS_SWEEP_ROWS_PER_FRAGMENT = 40;

interface NativeIterator {
  next(): Promise<Uint8Array | null>;
}

/**
 * The live rows of segments `segmentIds` of a lance-table `manifest`, in order; the dataset is
 * opened once for all of them.
 */
export async function* readLanceSegments(
  manifest: Manifest,
  segmentIds: readonly string[],
  options: ReadOptions = {},
  /** How whole fragments are read: chosen by size (`auto`), or forced (tests check both paths). */
  wholeFragments: 'auto' | 'offset' | 'address' = 'auto',
): AsyncGenerator<RecordBatch> {
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
    for (const seg of segs) {
      const frag = pinned.get(seg.file.path)!;
      const byAddress = wholeFragments === 'auto' ? pinned.size * ADDRESS_SWEEP_ROWS_PER_FRAGMENT <= frag.file.liveRows : wholeFragments === 'address';
      yield* readRange(opened.table, dir, frag, byAddress, seg, out, options.signal);
    }
  } finally {
    opened.close();
  }
}

async function* readRange(
  table: import('@lancedb/lancedb').Table,
  dir: string,
  frag: PinnedFragment,
  wholeByAddress: boolean,
  seg: ResolvedSegment,
  out: { schema: Schema; columns: ColumnRequest[] },
  signal: AbortSignal | undefined,
): AsyncGenerator<RecordBatch> {
  const whole = seg.rowOffset === 0 && seg.rows === frag.file.rows;
  if (whole && frag.file.liveRows === 0) return; // limit(0) would mean "no limit"
  const where = `${dir} fragment ${frag.fragmentId} rows [${seg.rowOffset}, ${seg.rowOffset + seg.rows})`;
  const lo = (frag.fragmentId << 32n) + BigInt(seg.rowOffset);
  const hi = lo + BigInt(seg.rows);
  // Each row's address comes along (and is dropped from the output): every batch is checked to hold
  // rows of this range only, in increasing order, before it is handed out.
  const select = [...(out.columns.length > 0 ? out.columns.map((c) => c.external) : [firstColumn(await table.schema())]), '_rowaddr'];
  const state: ScanState = { rows: 0, last: -1n, typesChecked: false };
  // `_rowaddr` bounds make Lance look at every fragment's addresses (≈0.1 ms each) but then decode in
  // parallel (3–4× the rows/s of offset/limit on a 524k-row fragment); offset/limit scans only the one
  // fragment. Whole fragments go by address when that sweep costs little next to the rows read.
  const byAddress = !whole || (wholeByAddress && !frag.sharedId);
  if (!byAddress) {
    let misplaced = false;
    // One row more in front, which must belong to an earlier fragment: the start is known right before
    // a row is handed out (the count check at the end covers the rest).
    let lead = frag.liveRowsBefore > 0;
    const first = frag.liveRowsBefore - (lead ? 1 : 0);
    for await (let b of scan(table.query().select(select).offset(first).limit(frag.file.liveRows + (lead ? 1 : 0)), where, signal)) {
      if (lead) {
        lead = false;
        const a = b.data.children[b.data.children.length - 1]!;
        if ((a.values as BigUint64Array)[a.offset]! >= lo) {
          misplaced = true;
          break;
        }
        b = b.slice(1);
        if (b.numRows === 0) continue;
      }
      if (!addressesIn(b, lo, hi, state)) {
        if (state.rows > 0) throw new LakemapError('SOURCE_CHANGED', `${where}: lancedb returned rows of another fragment after ${state.rows} rows of this one: refresh the collection`, { path: dir });
        misplaced = true;
        break;
      }
      yield output(dir, b, out, state);
    }
    if (!misplaced && state.rows === frag.file.liveRows) return;
    if (state.rows > 0) throw countMismatch(dir, where, state.rows, frag.file.liveRows);
    // Nothing handed out yet: lance placed the offset elsewhere (it does on some Lance 0.16 datasets); read by address.
  }
  if (frag.sharedId) {
    throw new LakemapError(
      'UNSUPPORTED',
      `${where}: its fragment id is used by another fragment too (a Lance 0.16 bug), so its rows cannot be told apart by address; rewrite the dataset (compact it) to read it`,
      { path: dir },
    );
  }
  for await (const b of scan(table.query().select(select).where(`_rowaddr >= ${lo} AND _rowaddr < ${hi}`), where, signal)) {
    if (!addressesIn(b, lo, hi, state)) throw new LakemapError('CORRUPT_FILE', `${where}: lancedb returned rows outside the range or out of order`, { path: dir });
    yield output(dir, b, out, state);
  }
  if (whole && state.rows !== frag.file.liveRows) throw countMismatch(dir, where, state.rows, frag.file.liveRows);
}

interface ScanState {
  rows: number;
  last: bigint;
  typesChecked: boolean;
}

/** The non-empty batches of a query, decoded with our apache-arrow, checking `signal` before each. */
async function* scan(query: import('@lancedb/lancedb').Query, where: string, signal: AbortSignal | undefined): AsyncGenerator<RecordBatch> {
  // lancedb hands back Arrow IPC buffers and decodes them with its own (CommonJS) apache-arrow, whose
  // classes are not this process's; they are decoded here with ours instead (and decoded once).
  const exec = (query as unknown as { nativeExecute?: (o: { maxBatchLength: number }) => Promise<NativeIterator> }).nativeExecute;
  if (typeof exec !== 'function') throw new LakemapError('UNSUPPORTED', `${where}: this @lancedb/lancedb has no nativeExecute; lakemap reads through 0.31.0`);
  let iterator: NativeIterator;
  try {
    iterator = await exec.call(query, { maxBatchLength: MAX_BATCH_ROWS });
  } catch (e) {
    throw lanceError(where, e);
  }
  for (;;) {
    cancelled(signal, where);
    let buf: Uint8Array | null;
    try {
      buf = await iterator.next();
    } catch (e) {
      throw lanceError(where, e);
    }
    if (!buf) return;
    for (const b of tableFromIPC(buf).batches) if (b.numRows > 0) yield b;
  }
}

/** True when every row address of `b` (its last column) lies in `[lo, hi)` and follows the previous one. */
function addressesIn(b: RecordBatch, lo: bigint, hi: bigint, state: ScanState): boolean {
  const d = b.data.children[b.data.children.length - 1]!;
  const addrs = (d.values as BigUint64Array).subarray(d.offset, d.offset + d.length);
  let last = state.last;
  // first and last bound the batch once the order is known to increase
  for (let i = 0; i < addrs.length; i++) {
    const a = addrs[i]!;
    if (a <= last) return false;
    last = a;
  }
  if (addrs[0]! < lo || last >= hi) return false;
  state.last = last;
  return true;
}

/** The batch with the collection's names and types, without the address column. */
function output(dir: string, b: RecordBatch, out: { schema: Schema; columns: ColumnRequest[] }, state: ScanState): RecordBatch {
  if (!state.typesChecked) {
    checkTypes(dir, out.columns, b);
    state.typesChecked = true;
  }
  state.rows += b.numRows;
  const children: Data[] = out.columns.map((c, i) => b.data.children[i]!.clone(c.field.type));
  return new RecordBatch(out.schema, makeData({ type: new Struct(out.schema.fields), length: b.numRows, nullCount: 0, children }));
}

function countMismatch(dir: string, where: string, got: number, want: number): LakemapError {
  return new LakemapError('SOURCE_CHANGED', `${where}: lancedb returned ${got} rows where the manifest maps ${want} live rows: refresh the collection`, { path: dir });
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

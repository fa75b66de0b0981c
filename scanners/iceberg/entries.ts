/**
 * Builds the manifest entry of one live data file: rows and live rows, one unit (the data file; footers
 * are not read), the fingerprint, and compact JSON `details` (partition, deletes, column stats).
 */
import { hash } from 'node:crypto';
import type { JsonObject, JsonValue, TableEntry } from '../../src/scanner.js';
import { liveRowsOf, type AttachedDelete } from './deletes.js';
import type { SchemaColumn } from './schema.js';
import type { ContentFile } from './types.js';
import { decodeBound, jsonInt64 } from './values.js';

/** Column stats of a data file keyed by column name of the selected schema (dropped columns omitted). */
function columnStats(f: ContentFile, columns: Map<number, SchemaColumn>): JsonObject | undefined {
  const ids: number[] = [];
  for (const m of [f.nullValueCounts, f.lowerBounds, f.upperBounds]) if (m) for (const id of m.keys()) ids.push(id);
  if (ids.length === 0) return undefined;
  let sorted = true; // usually: one map, its keys in field order
  for (let i = 1; i < ids.length && sorted; i++) sorted = ids[i - 1]! <= ids[i]!;
  if (!sorted) ids.sort((a, b) => a - b);
  const out: JsonObject = {};
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (i > 0 && id === ids[i - 1]) continue; // in more than one map
    const col = columns.get(id);
    if (!col) continue;
    const s: JsonObject = {};
    const nulls = f.nullValueCounts?.get(id);
    if (nulls !== undefined) s['nulls'] = jsonInt64(nulls);
    const lo = f.lowerBounds?.get(id);
    if (lo) s['min'] = decodeBound(col.type, lo);
    const hi = f.upperBounds?.get(id);
    if (hi) s['max'] = decodeBound(col.type, hi);
    out[col.name] = s;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Stable identity of an attached delete (a DV is one blob of a possibly shared Puffin file). */
function deleteIdentity(a: AttachedDelete): string {
  const f = a.file;
  return f.contentOffset === undefined ? f.path : `${f.path}@${f.contentOffset}`;
}

function deleteDetails(a: AttachedDelete): JsonObject {
  const f = a.file;
  const d: JsonObject = { kind: a.kind, path: f.path, records: f.recordCount, sequenceNumber: jsonInt64(f.sequenceNumber) };
  if (f.contentOffset !== undefined) d['contentOffset'] = jsonInt64(f.contentOffset);
  if (f.contentSizeInBytes !== undefined) d['contentSize'] = jsonInt64(f.contentSizeInBytes);
  if (f.equalityIds) d['equalityIds'] = f.equalityIds;
  if (a.kind === 'position') d['pinnedBy'] = a.pin;
  return d;
}

// Most files of a snapshot share their sequence number and snapshot id: the last conversion is reused.
let lastSeq: { v: bigint; json: number | string } = { v: -1n, json: -1 };
let lastSnap: { v: bigint; text: string } = { v: -1n, text: '-1' };
function lastInt64(v: bigint): number | string {
  if (v !== lastSeq.v) lastSeq = { v, json: jsonInt64(v) };
  return lastSeq.json;
}
function lastId(v: bigint): string {
  if (v !== lastSnap.v) lastSnap = { v, text: v.toString() };
  return lastSnap.text;
}

/** The table entry of a data file. */
export function dataFileEntry(f: ContentFile, deletes: AttachedDelete[], columns: Map<number, SchemaColumn>): TableEntry {
  const { liveRows, exact } = liveRowsOf(f.recordCount, deletes);
  const ids = deletes.map(deleteIdentity).sort();
  // Path + size identify an immutable Iceberg data file; the attached deletes change its live rows.
  let fingerprint = `iceberg:${f.path}:${f.fileSizeInBytes}`;
  // One-shot hash: no Hash object per file (a table with deletes on every file has thousands).
  if (ids.length > 0) fingerprint += `:del-${hash('sha256', ids.join('\n'), 'hex').slice(0, 16)}`;

  const details: JsonObject = {
    format: f.fileFormat.toLowerCase(),
    partition: f.partition,
    specId: f.specId,
    sequenceNumber: lastInt64(f.sequenceNumber),
    snapshotId: lastId(f.snapshotId),
    deletes: deletes.map(deleteDetails),
  };
  if (f.splitOffsets) details['splitOffsets'] = f.splitOffsets.map(jsonInt64) as JsonValue[];
  if (f.firstRowId !== undefined) details['firstRowId'] = jsonInt64(f.firstRowId);
  const stats = columnStats(f, columns);
  if (stats) details['columnStats'] = stats;

  const entry: TableEntry = {
    path: f.path,
    sizeBytes: f.fileSizeInBytes,
    fingerprint,
    rows: f.recordCount,
    units: [{ rows: f.recordCount, byteSize: f.fileSizeInBytes }],
    details,
  };
  if (deletes.length > 0) {
    entry.liveRows = liveRows;
    entry.liveRowsExact = exact;
  }
  return entry;
}

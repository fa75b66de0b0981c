/**
 * Reads a snapshot's manifest list and manifests into its live content files: data files and delete
 * files (status DELETED entries skipped), with sequence numbers and snapshot ids inherited from the
 * manifest list where the entry leaves them null, partitions decoded, and paths rebased on the source.
 */
import { corruptFile, LakemapError, type SourceStorage } from '../../src/scanner.js';
import { readAvroContainer } from './avro.js';
import type { AvroProjection } from './avro-projection.js';
import { parseLosslessJson } from './lossless-json.js';
import { normalizeUri, type TableRebaser } from './paths.js';
import { toBigInt } from './table-metadata.js';
import { CONTENT_DATA, CONTENT_POSITION_DELETES, type ContentFile, type PartitionField, type PartitionSpec, type Snapshot, type TableMetadata } from './types.js';
import { MAX_SAFE_BIGINT, partitionResultType, partitionValue } from './values.js';
import type { SchemaColumn } from './schema.js';

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
/** Manifests read at once: enough to hide latency on object stores, few enough to bound memory. */
const MANIFEST_CONCURRENCY = 8;
/** Reserved field id of `file_path` in position delete files (used to find the one data file they reference). */
const DELETE_FILE_PATH_ID = 2147483546;

/** One manifest of a snapshot, as the manifest list describes it. */
export interface ManifestRef {
  path: string;
  specId?: number;
  content: number;
  sequenceNumber: bigint;
  addedSnapshotId?: bigint;
}

/** The live files of a snapshot. */
export interface SnapshotFiles {
  dataFiles: ContentFile[];
  deleteFiles: ContentFile[];
  manifestCount: number;
  /** Entries of data manifests that are not data files (e.g. PUFFIN index blobs), skipped. */
  skippedEntries: { path: string; format: string; records: number }[];
}

/** File formats that hold table rows (Iceberg `file_format` of data files). */
const DATA_FORMATS = new Set(['PARQUET', 'AVRO', 'ORC']);

/**
 * The manifest-entry fields read below (v1, v2 and v3 names; absent ones stay absent). The other
 * per-column maps (column_sizes, value_counts, nan_value_counts), key_metadata and the like are skipped
 * while decoding: they are most of a Spark manifest's bytes and nothing here uses them.
 */
export const MANIFEST_ENTRY_FIELDS: AvroProjection = {
  status: true,
  snapshot_id: true,
  sequence_number: true,
  data_file: {
    content: true, file_path: true, file_format: true, partition: true, record_count: true, file_size_in_bytes: true,
    null_value_counts: true, lower_bounds: true, upper_bounds: true, split_offsets: true, first_row_id: true,
    equality_ids: true, referenced_data_file: true, content_offset: true, content_size_in_bytes: true,
  },
};

/** The manifest-list fields read below (the per-partition summaries are skipped). */
export const MANIFEST_FILE_FIELDS: AvroProjection = {
  manifest_path: true, partition_spec_id: true, content: true, sequence_number: true, added_snapshot_id: true,
};

type Rec = Record<string, unknown>;

function asRecord(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Rec) : undefined;
}

/** Raw partition tuples equal value by value (numbers, strings, null, bigint; bytes only when the same object). */
function sameValues(a: unknown[], b: unknown[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && !(typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}

function safeNumber(v: unknown): number | undefined {
  const b = toBigInt(v);
  return b !== undefined && b >= 0n && b <= MAX_SAFE_BIGINT ? Number(b) : undefined;
}

/** `array<record{key,value}>` (Iceberg's int-keyed Avro maps) as a Map. */
function idMap<V>(v: unknown, convert: (x: unknown) => V | undefined): Map<number, V> | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = new Map<number, V>();
  for (const kv of v) {
    const r = asRecord(kv);
    const value = r ? convert(r['value']) : undefined;
    if (r && typeof r['key'] === 'number' && value !== undefined) out.set(r['key'], value);
  }
  return out;
}

/**
 * The bytes of an Avro file named in the metadata, and its source-relative path. The path the known
 * prefixes give is read straight away (the read checks that the file is there); only when that fails is
 * the file looked for as before (`toSource` probes, learns relocated prefixes), so errors stay the same.
 */
async function readMetadataAvro(storage: SourceStorage, rebaser: TableRebaser, written: string, what: string): Promise<{ rel: string; bytes: Uint8Array }> {
  const guess = rebaser.byPrefix(written);
  if (guess !== undefined) {
    try {
      return { rel: guess, bytes: await storage.readFile(guess, MAX_MANIFEST_BYTES) };
    } catch {
      // looked for below, which reports what is wrong
    }
  }
  const rel = await rebaser.toSource(written, what, true);
  return { rel, bytes: await storage.readFile(rel, MAX_MANIFEST_BYTES) };
}

/** Reads the manifest list of a snapshot (or the v1 inline manifest paths). */
export async function readManifestList(storage: SourceStorage, rebaser: TableRebaser, snap: Snapshot): Promise<ManifestRef[]> {
  if (snap.manifestList === undefined) {
    return (snap.manifests ?? []).map((path) => ({ path, content: CONTENT_DATA, sequenceNumber: 0n }));
  }
  const { rel, bytes } = await readMetadataAvro(storage, rebaser, snap.manifestList, `manifest list of snapshot ${snap.id}`);
  const { records } = readAvroContainer(bytes, rel, MANIFEST_FILE_FIELDS);
  return records.map((value, i) => {
    const r = asRecord(value);
    const path = r?.['manifest_path'];
    if (!r || typeof path !== 'string') throw corruptFile(rel, `manifest list record ${i} has no manifest_path`);
    const ref: ManifestRef = {
      path,
      content: typeof r['content'] === 'number' ? r['content'] : CONTENT_DATA,
      sequenceNumber: toBigInt(r['sequence_number']) ?? 0n,
    };
    if (typeof r['partition_spec_id'] === 'number') ref.specId = r['partition_spec_id'];
    const added = toBigInt(r['added_snapshot_id']);
    if (added !== undefined) ref.addedSnapshotId = added;
    return ref;
  });
}

function specOf(meta: TableMetadata, ref: ManifestRef, header: Map<string, string>, rel: string): PartitionSpec {
  const headerId = header.get('partition-spec-id');
  const specId = ref.specId ?? (headerId !== undefined && /^\d+$/.test(headerId) ? Number(headerId) : 0);
  const known = meta.specs.get(specId);
  if (known) return known;
  // Old v1 tables keep the spec only in the manifest header.
  const text = header.get('partition-spec');
  if (text !== undefined) {
    try {
      const fields = parseLosslessJson(text);
      if (Array.isArray(fields)) return { specId, fields: fields as PartitionField[] };
    } catch {
      // reported below
    }
  }
  throw corruptFile(rel, `partition spec ${specId} is neither in the table metadata nor in the manifest header`);
}

/** Reads one manifest's live entries. */
async function readManifest(
  storage: SourceStorage, rebaser: TableRebaser, meta: TableMetadata, columns: Map<number, SchemaColumn>, ref: ManifestRef,
): Promise<{ files: ContentFile[]; skipped: SnapshotFiles['skippedEntries'] }> {
  const { rel, bytes } = await readMetadataAvro(storage, rebaser, ref.path, 'manifest');
  const { metadata: header, records } = readAvroContainer(bytes, rel, MANIFEST_ENTRY_FIELDS);
  const spec = specOf(meta, ref, header, rel);
  const partitionTypes = spec.fields.map((f) => partitionResultType(f, columns.get(f['source-id'])?.type));
  const unpartitioned = spec.fields.every((f) => f.transform === 'void');
  const out: ContentFile[] = [];
  const skipped: SnapshotFiles['skippedEntries'] = [];
  let lastFormat: { raw: unknown; upper: string } = { raw: undefined, upper: 'PARQUET' };
  let last: { values: unknown[] | undefined; partition: ContentFile['partition']; key: string } = { values: undefined, partition: {}, key: '' };
  for (let i = 0; i < records.length; i++) {
    const entry = asRecord(records[i]);
    const df = asRecord(entry?.['data_file']);
    const bad = (reason: string) => corruptFile(rel, `manifest entry ${i}: ${reason}`);
    if (!entry || !df) throw bad('no data_file');
    const status = entry['status'];
    if (status === 2) continue; // DELETED: kept in the manifest only for history
    if (status !== 0 && status !== 1) throw bad(`status ${String(status)} is not 0, 1 or 2`);
    const filePath = df['file_path'];
    if (typeof filePath !== 'string') throw bad('no file_path');
    const recordCount = safeNumber(df['record_count']);
    const fileSize = safeNumber(df['file_size_in_bytes']);
    if (recordCount === undefined || fileSize === undefined) throw bad(`${filePath} has no valid record_count / file_size_in_bytes`);
    const content = typeof df['content'] === 'number' ? df['content'] : CONTENT_DATA;
    if (content < 0 || content > 2) throw bad(`${filePath} has unknown content ${content}`);

    const rawFormat = df['file_format'];
    // one upper-cased copy per manifest, not per entry
    if (rawFormat !== lastFormat.raw) lastFormat = { raw: rawFormat, upper: typeof rawFormat === 'string' ? rawFormat.toUpperCase() : 'PARQUET' };
    const fileFormat = lastFormat.upper;
    if (content === CONTENT_DATA && !DATA_FORMATS.has(fileFormat)) {
      // E.g. a PUFFIN hash-index blob listed in a data manifest: it holds no table rows (DuckDB skips it too).
      skipped.push({ path: filePath, format: fileFormat, records: recordCount });
      continue;
    }

    const values = Object.values(asRecord(df['partition']) ?? {});
    // A manifest's entries mostly share a partition: the previous tuple (and its key) is reused when the
    // raw values are the same, instead of a new object and a JSON key per file.
    if (!sameValues(values, last.values)) {
      const partition: ContentFile['partition'] = {};
      spec.fields.forEach((f, j) => {
        partition[f.name] = partitionValue(partitionTypes[j]!, values[j]);
      });
      last = { values, partition, key: unpartitioned ? 'unpartitioned' : `${spec.specId}|${JSON.stringify(partition)}` };
    }
    const partition = last.partition;
    // Null sequence numbers / snapshot ids are inherited from the manifest (v2 "inheritance").
    const sequenceNumber = toBigInt(entry['sequence_number']) ?? ref.sequenceNumber;
    const snapshotId = toBigInt(entry['snapshot_id']) ?? ref.addedSnapshotId ?? 0n;

    const uri = normalizeUri(filePath);
    const path = rebaser.byPrefix(filePath, uri) ?? (await rebaser.toSource(filePath, content === CONTENT_DATA ? 'data file' : 'delete file', true));
    const file: ContentFile = {
      content, filePath, uri, path,
      fileFormat,
      specId: spec.specId,
      partition,
      partitionKey: last.key,
      recordCount, fileSizeInBytes: fileSize, sequenceNumber, snapshotId,
    };
    if (content === CONTENT_DATA) {
      const nulls = idMap(df['null_value_counts'], toBigInt);
      if (nulls) file.nullValueCounts = nulls;
      const lower = idMap(df['lower_bounds'], (x) => (x instanceof Uint8Array ? x : undefined));
      if (lower) file.lowerBounds = lower;
      const upper = idMap(df['upper_bounds'], (x) => (x instanceof Uint8Array ? x : undefined));
      if (upper) file.upperBounds = upper;
      if (Array.isArray(df['split_offsets'])) file.splitOffsets = (df['split_offsets'] as unknown[]).map((x) => toBigInt(x) ?? 0n);
      const firstRowId = toBigInt(df['first_row_id']);
      if (firstRowId !== undefined) file.firstRowId = firstRowId;
    } else {
      if (Array.isArray(df['equality_ids'])) file.equalityIds = (df['equality_ids'] as unknown[]).map((x) => Number(x));
      const referenced = typeof df['referenced_data_file'] === 'string' ? df['referenced_data_file'] : undefined;
      if (referenced !== undefined) file.referencedDataFile = referenced;
      else if (content === CONTENT_POSITION_DELETES) {
        // Equal file_path bounds name one data file, but bounds can be rewritten (tables moved by a tool)
        // or truncated: a hint, used only when the delete file's own footer cannot be read.
        const lo = idMap(df['lower_bounds'], (x) => (x instanceof Uint8Array ? x : undefined))?.get(DELETE_FILE_PATH_ID);
        const hi = idMap(df['upper_bounds'], (x) => (x instanceof Uint8Array ? x : undefined))?.get(DELETE_FILE_PATH_ID);
        if (lo && hi && Buffer.compare(lo, hi) === 0) file.boundsHint = new TextDecoder().decode(lo);
      }
      const offset = toBigInt(df['content_offset']);
      const size = toBigInt(df['content_size_in_bytes']);
      if (offset !== undefined) file.contentOffset = offset;
      if (size !== undefined) file.contentSizeInBytes = size;
    }
    out.push(file);
  }
  return { files: out, skipped };
}

/** Reads every manifest of a snapshot, a few at a time, reporting progress and honouring the signal. */
export async function readSnapshotFiles(
  storage: SourceStorage, rebaser: TableRebaser, meta: TableMetadata, columns: Map<number, SchemaColumn>, snap: Snapshot,
  signal: AbortSignal, progress: (done: number, total: number) => void,
): Promise<SnapshotFiles> {
  const refs = await readManifestList(storage, rebaser, snap);
  const results: { files: ContentFile[]; skipped: SnapshotFiles['skippedEntries'] }[] = new Array(refs.length);
  let next = 0;
  let done = 0;
  progress(0, refs.length);
  const worker = async () => {
    while (next < refs.length) {
      if (signal.aborted) throw new LakemapError('CANCELLED', 'the refresh was cancelled while reading manifests');
      const i = next++;
      results[i] = await readManifest(storage, rebaser, meta, columns, refs[i]!);
      progress(++done, refs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_CONCURRENCY, refs.length) }, worker));
  const dataFiles: ContentFile[] = [];
  const deleteFiles: ContentFile[] = [];
  const skippedEntries: SnapshotFiles['skippedEntries'] = [];
  for (const { files, skipped } of results) {
    for (const f of files) (f.content === CONTENT_DATA ? dataFiles : deleteFiles).push(f);
    skippedEntries.push(...skipped);
  }
  return { dataFiles, deleteFiles, manifestCount: refs.length, skippedEntries };
}

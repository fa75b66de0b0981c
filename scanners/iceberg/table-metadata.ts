/**
 * Turns parsed table metadata JSON (format versions 1, 2, 3) into {@link TableMetadata}, checking the
 * fields the scanner relies on so that a malformed file fails with a reason, not a TypeError later.
 */
import { corruptFile } from '../../src/scanner.js';
import type { IcebergSchema, PartitionSpec, Snapshot, TableMetadata } from './types.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An int64 value read losslessly (bigint, safe number or decimal string), or undefined. */
export function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return undefined;
}

/** Parses and checks table metadata; `path` is used in error messages. */
export function parseTableMetadata(raw: unknown, path: string): TableMetadata {
  const bad = (reason: string) => corruptFile(path, `invalid table metadata: ${reason}`);
  if (!isObject(raw)) throw bad('the document is not a JSON object');
  const formatVersion = raw['format-version'];
  if (formatVersion !== 1 && formatVersion !== 2 && formatVersion !== 3) {
    throw bad(`format-version ${JSON.stringify(String(formatVersion))} is not 1, 2 or 3`);
  }
  const location = raw['location'];
  if (typeof location !== 'string' || location === '') throw bad('location is missing');

  const schemas = new Map<number, IcebergSchema>();
  const rawSchemas = Array.isArray(raw['schemas']) ? raw['schemas'] : raw['schema'] !== undefined ? [raw['schema']] : [];
  for (const s of rawSchemas) {
    if (!isObject(s) || !Array.isArray(s['fields'])) throw bad('a schema has no fields array');
    const id = typeof s['schema-id'] === 'number' ? s['schema-id'] : 0;
    schemas.set(id, { ...(s as unknown as IcebergSchema), 'schema-id': id });
  }
  if (schemas.size === 0) throw bad('no schema');
  const currentSchemaId = typeof raw['current-schema-id'] === 'number' ? raw['current-schema-id'] : [...schemas.keys()][0]!;
  if (!schemas.has(currentSchemaId)) throw bad(`current-schema-id ${currentSchemaId} names no schema`);

  const specs = new Map<number, PartitionSpec>();
  if (Array.isArray(raw['partition-specs'])) {
    for (const s of raw['partition-specs']) {
      if (!isObject(s) || !Array.isArray(s['fields'])) throw bad('a partition spec has no fields array');
      const specId = typeof s['spec-id'] === 'number' ? s['spec-id'] : 0;
      specs.set(specId, { specId, fields: s['fields'] as PartitionSpec['fields'] });
    }
  } else if (Array.isArray(raw['partition-spec'])) {
    specs.set(0, { specId: 0, fields: raw['partition-spec'] as PartitionSpec['fields'] });
  }

  const snapshots: Snapshot[] = [];
  const rawSnapshots = raw['snapshots'] ?? [];
  if (!Array.isArray(rawSnapshots)) throw bad('snapshots is not an array');
  for (const s of rawSnapshots) {
    if (!isObject(s)) throw bad('a snapshot is not an object');
    const id = toBigInt(s['snapshot-id']);
    if (id === undefined) throw bad('a snapshot has no snapshot-id');
    const timestampMs = s['timestamp-ms'];
    if (typeof timestampMs !== 'number') throw bad(`snapshot ${id} has no timestamp-ms`);
    const manifestList = s['manifest-list'];
    const manifests = s['manifests'];
    if (typeof manifestList !== 'string' && !(Array.isArray(manifests) && manifests.every((m) => typeof m === 'string'))) {
      throw bad(`snapshot ${id} has neither a manifest-list nor manifests`);
    }
    const summary: Record<string, string> = {};
    if (isObject(s['summary'])) for (const [k, v] of Object.entries(s['summary'])) summary[k] = String(v);
    const snap: Snapshot = { id, sequenceNumber: toBigInt(s['sequence-number']) ?? 0n, timestampMs, summary };
    const parentId = toBigInt(s['parent-snapshot-id']);
    if (parentId !== undefined) snap.parentId = parentId;
    if (typeof manifestList === 'string') snap.manifestList = manifestList;
    else snap.manifests = manifests as string[];
    if (typeof s['schema-id'] === 'number') snap.schemaId = s['schema-id'];
    snapshots.push(snap);
  }

  const snapshotLog: TableMetadata['snapshotLog'] = [];
  if (Array.isArray(raw['snapshot-log'])) {
    for (const e of raw['snapshot-log']) {
      const snapshotId = isObject(e) ? toBigInt(e['snapshot-id']) : undefined;
      if (snapshotId !== undefined && typeof (e as Json)['timestamp-ms'] === 'number') {
        snapshotLog.push({ snapshotId, timestampMs: (e as Json)['timestamp-ms'] as number });
      }
    }
  }

  const refs: TableMetadata['refs'] = new Map();
  if (isObject(raw['refs'])) {
    for (const [name, r] of Object.entries(raw['refs'])) {
      const snapshotId = isObject(r) ? toBigInt(r['snapshot-id']) : undefined;
      if (snapshotId === undefined) throw bad(`ref ${JSON.stringify(name)} has no snapshot-id`);
      refs.set(name, { snapshotId, type: (r as Json)['type'] === 'tag' ? 'tag' : 'branch' });
    }
  }

  const properties: Record<string, string> = {};
  if (isObject(raw['properties'])) for (const [k, v] of Object.entries(raw['properties'])) properties[k] = String(v);

  const lastUpdatedMs = typeof raw['last-updated-ms'] === 'number' ? raw['last-updated-ms'] : 0;
  const meta: TableMetadata = { formatVersion, location, schemas, currentSchemaId, specs, snapshots, snapshotLog, refs, properties, lastUpdatedMs };
  const current = toBigInt(raw['current-snapshot-id']);
  if (current !== undefined && current !== -1n) meta.currentSnapshotId = current;
  if (typeof raw['table-uuid'] === 'string') meta.tableUuid = raw['table-uuid'];
  return meta;
}

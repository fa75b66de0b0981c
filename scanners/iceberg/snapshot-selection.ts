/**
 * Chooses the snapshot to map: the current one, the one named by `snapshot_id`, or the last one at or
 * before `as_of_timestamp` (ms), or the one a branch or tag (`ref`) points at, following the table's snapshot log as Iceberg time travel does.
 */
import { LakemapError } from '../../src/scanner.js';
import type { Snapshot, TableMetadata } from './types.js';

/** What the spec asks for; at most one is set. */
export interface SnapshotRequest {
  snapshotId?: bigint;
  asOfTimestampMs?: number;
  ref?: string;
}

/** The selected snapshot, or undefined for a table with no snapshot (an empty collection). */
export function selectSnapshot(meta: TableMetadata, request: SnapshotRequest, metadataPath: string): Snapshot | undefined {
  const byId = (id: bigint) => meta.snapshots.find((s) => s.id === id);
  if (request.snapshotId !== undefined) {
    const snap = byId(request.snapshotId);
    if (!snap) {
      throw new LakemapError('VERSION_NOT_FOUND', `snapshot ${request.snapshotId} does not exist in ${metadataPath} (known: ${meta.snapshots.map((s) => s.id).join(', ') || 'none'})`, { path: metadataPath });
    }
    return snap;
  }
  if (request.ref !== undefined) {
    const ref = meta.refs.get(request.ref);
    if (!ref) {
      // Tables written before refs existed (v1) still have a current snapshot: `main` names it.
      if (request.ref === 'main' && meta.refs.size === 0 && meta.currentSnapshotId !== undefined) return byId(meta.currentSnapshotId);
      const known = [...meta.refs].map(([name, r]) => `${name} (${r.type})`).join(', ') || 'none';
      throw new LakemapError('VERSION_NOT_FOUND', `ref ${JSON.stringify(request.ref)} is neither a branch nor a tag of ${metadataPath} (refs: ${known})`, { path: metadataPath });
    }
    const snap = byId(ref.snapshotId);
    if (!snap) throw new LakemapError('CORRUPT_FILE', `${metadataPath}: ${ref.type} ${request.ref} points at snapshot ${ref.snapshotId}, which does not exist`, { path: metadataPath });
    return snap;
  }
  if (request.asOfTimestampMs !== undefined) {
    const ts = request.asOfTimestampMs;
    // The snapshot log records which snapshot was current when; without it fall back to commit times.
    const history = meta.snapshotLog.length > 0
      ? meta.snapshotLog.map((e) => ({ id: e.snapshotId, t: e.timestampMs }))
      : meta.snapshots.map((s) => ({ id: s.id, t: s.timestampMs })).sort((a, b) => a.t - b.t);
    let found: bigint | undefined;
    for (const e of history) if (e.t <= ts) found = e.id;
    const snap = found === undefined ? undefined : byId(found);
    if (!snap) {
      throw new LakemapError('VERSION_NOT_FOUND', `no snapshot of ${metadataPath} was current at or before ${new Date(ts).toISOString()} (${ts} ms)`, { path: metadataPath });
    }
    return snap;
  }
  if (meta.currentSnapshotId === undefined) return undefined;
  const snap = byId(meta.currentSnapshotId);
  if (!snap) {
    throw new LakemapError('CORRUPT_FILE', `${metadataPath}: current-snapshot-id ${meta.currentSnapshotId} names no snapshot`, { path: metadataPath });
  }
  return snap;
}

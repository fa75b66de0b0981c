/**
 * The external-spec keys of the `iceberg-table` format: `metadata_location`, `snapshot_id`,
 * `as_of_timestamp`, `ref`, `table_path`. Bad values fail with `INVALID_SPEC` before any file is read.
 */
import { LakemapError, type ExternalSpec } from '../../src/scanner.js';

/** Parsed options. */
export interface IcebergOptions {
  /** Metadata file to use, relative to the table directory (or as written; its file name is looked up in `metadata/`). */
  metadataLocation?: string;
  /** Snapshot to map (ids exceed 2^53: give it as a decimal string). */
  snapshotId?: bigint;
  /** Map the snapshot that was current at this time (epoch ms). */
  asOfTimestampMs?: number;
  /** Map the snapshot a branch or tag points at (`refs` of the table metadata; `main` is the current branch). */
  ref?: string;
  /**
   * The table folder, relative to the source, `/`-separated (default: the source itself). Set it when the
   * table keeps data files beside its folder (`add_files`, migrations): make the source a folder that holds
   * both, and name the table here. Data files anywhere inside the source are then mapped.
   */
  tablePath?: string;
}

function invalid(message: string): LakemapError {
  return new LakemapError('INVALID_SPEC', `iceberg-table: ${message}`);
}

/** Parses and checks the spec keys this format reads. */
export function parseIcebergOptions(spec: ExternalSpec): IcebergOptions {
  const out: IcebergOptions = {};
  const loc = spec['metadata_location'];
  if (loc !== undefined) {
    if (typeof loc !== 'string' || loc.trim() === '') throw invalid('metadata_location must be a non-empty string');
    out.metadataLocation = loc;
  }
  const id = spec['snapshot_id'];
  if (id !== undefined) {
    if (typeof id === 'bigint') out.snapshotId = id;
    else if (typeof id === 'number' && Number.isSafeInteger(id)) out.snapshotId = BigInt(id);
    else if (typeof id === 'string' && /^-?\d{1,19}$/.test(id.trim())) out.snapshotId = BigInt(id.trim());
    else {
      throw invalid(`snapshot_id must be an integer (a decimal string for ids above 2^53), got ${JSON.stringify(typeof id === 'number' ? String(id) : id)}`);
    }
    if (out.snapshotId < -(2n ** 63n) || out.snapshotId >= 2n ** 63n) throw invalid(`snapshot_id ${out.snapshotId} is outside int64`);
  }
  const ts = spec['as_of_timestamp'];
  if (ts !== undefined) {
    let ms: number | undefined;
    if (typeof ts === 'number') ms = ts;
    else if (typeof ts === 'string' && /^\d+$/.test(ts.trim())) ms = Number(ts.trim());
    else if (typeof ts === 'string' && !Number.isNaN(Date.parse(ts))) ms = Date.parse(ts);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      throw invalid(`as_of_timestamp must be epoch milliseconds (or an ISO date), got ${JSON.stringify(ts)}`);
    }
    out.asOfTimestampMs = ms;
  }
  const ref = spec['ref'];
  if (ref !== undefined) {
    if (typeof ref !== 'string' || ref.trim() === '') throw invalid('ref must be the name of a branch or tag');
    out.ref = ref;
  }
  const chosen = ['snapshot_id', 'as_of_timestamp', 'ref'].filter((k) => spec[k] !== undefined);
  if (chosen.length > 1) throw invalid(`give one of snapshot_id, as_of_timestamp or ref, not ${chosen.join(' and ')}`);
  const tablePath = spec['table_path'];
  if (tablePath !== undefined) {
    if (typeof tablePath !== 'string') throw invalid('table_path must be a folder relative to the source, e.g. "default.db/my_table"');
    const parts = tablePath.split('/').filter((p) => p !== '' && p !== '.');
    if (tablePath.startsWith('/') || tablePath.includes('\\') || parts.includes('..')) {
      throw invalid(`table_path must be a folder inside the source, without "..", got ${JSON.stringify(tablePath)}`);
    }
    if (parts.length > 0) out.tablePath = parts.join('/');
  }
  return out;
}

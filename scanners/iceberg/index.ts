/**
 * The `iceberg-table` scanner: maps an Iceberg table directory (`metadata/` + data files) to a table
 * snapshot by reading table metadata, the manifest list and manifests only; data files and delete files
 * are never opened.
 *
 * @module
 */
import { LakemapError, type JsonObject, type SourceStorage, type SnapshotContext, type TableEntry, type TableScanner, type TableSnapshot } from '../../src/scanner.js';
import { readDeleteFileTarget } from './delete-footer.js';
import { attachDeletes, deleteKind } from './deletes.js';
import { dataFileEntry } from './entries.js';
import { readSnapshotFiles } from './manifests.js';
import { loadCurrentMetadata } from './metadata-file.js';
import { TableRebaser, subStorage } from './paths.js';
import { icebergSchemaToArrow, primitiveColumns } from './schema.js';
import { selectSnapshot } from './snapshot-selection.js';
import { parseIcebergOptions } from './spec-options.js';
import type { ContentFile, Snapshot, TableMetadata } from './types.js';
import { jsonInt64 } from './values.js';

export { parseIcebergOptions, type IcebergOptions } from './spec-options.js';

/** Delete-file footers read at once. */
const FOOTER_CONCURRENCY = 8;

/**
 * Reads the parquet footer of every position delete file that `referenced_data_file` does not pin, to
 * learn from its `file_path` statistics which data file(s) it holds deletes for.
 */
async function readDeleteFooters(source: SourceStorage, deleteFiles: ContentFile[], signal: AbortSignal): Promise<void> {
  const todo = deleteFiles.filter((d) => deleteKind(d) === 'position' && d.referencedDataFile === undefined);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      if (signal.aborted) throw new LakemapError('CANCELLED', 'the refresh was cancelled while reading delete file footers');
      const d = todo[next++]!;
      d.footerTarget = d.fileFormat === 'PARQUET'
        ? await readDeleteFileTarget(source, d.path)
        : { kind: 'unknown', reason: `it is ${d.fileFormat}, whose footer is not read` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(FOOTER_CONCURRENCY, todo.length) }, worker));
}

/**
 * The schema that applies to a snapshot: the table's current schema for the current snapshot and for
 * branches (Iceberg reads a branch with the table schema), else the snapshot's own (time travel, tags).
 */
function schemaIdFor(meta: TableMetadata, snap: Snapshot | undefined, ref: string | undefined): number {
  const branch = ref !== undefined && meta.refs.get(ref)?.type !== 'tag';
  if (!snap || branch || snap.id === meta.currentSnapshotId || snap.schemaId === undefined || !meta.schemas.has(snap.schemaId)) {
    return meta.currentSchemaId;
  }
  return snap.schemaId;
}

function nameMapping(meta: TableMetadata): JsonObject | undefined {
  const text = meta.properties['schema.name-mapping.default'];
  if (text === undefined) return undefined;
  try {
    return { nameMapping: JSON.parse(text) as JsonObject };
  } catch {
    return undefined;
  }
}

/**
 * Scanner for the `iceberg-table` format. Spec keys: `metadata_location` (metadata file to use),
 * `snapshot_id` (decimal string), `as_of_timestamp` (epoch ms), `ref` (a branch or tag name),
 * `table_path` (the table folder inside the source, when data files lie beside it). Through a `volume://` source,
 * files beside the table map when they lie inside the volume's directory. `tableVersion` is the snapshot id as a
 * decimal string (`''` for a table with no snapshot); entries are the live data files with their deletes.
 *
 * @example
 * ```ts
 * const engine = new RefreshEngine({ root, scanners: [icebergScanner] });
 * await engine.createCollection({ collectionName: 'events', externalSource: 'file:///lake/events',
 *   externalSpec: { format: 'iceberg-table', snapshot_id: '9158179788527662767' } });
 * ```
 */
export const icebergScanner: TableScanner = {
  kind: 'table',
  format: 'iceberg-table',
  // add_files and migrated tables keep data files beside the table: a volume source lets them map
  mapsBesideTable: true,

  validateSpec(spec) {
    parseIcebergOptions(spec);
  },

  async snapshot(source: SourceStorage, ctx: SnapshotContext): Promise<TableSnapshot> {
    const options = parseIcebergOptions(ctx.spec);
    // The table folder inside `source`: the engine's (a volume-rooted source) joined with the spec's table_path.
    const tablePath = [ctx.tablePath, options.tablePath].filter((p) => p).join('/') || undefined;
    const table = subStorage(source, tablePath);
    const loaded = await loadCurrentMetadata(table, options.metadataLocation);
    const meta = loaded.metadata;
    const warnings = [...loaded.warnings];
    const snap = selectSnapshot(meta, options, loaded.path);
    const icebergSchema = meta.schemas.get(schemaIdFor(meta, snap, options.ref))!;
    const schema = icebergSchemaToArrow(icebergSchema, loaded.path);
    const details: JsonObject = {
      formatVersion: meta.formatVersion,
      metadataFile: tablePath ? `${tablePath}/${loaded.path}` : loaded.path,
      location: meta.location,
      schemaId: icebergSchema['schema-id'],
      ...(meta.tableUuid !== undefined ? { tableUuid: meta.tableUuid } : {}),
      ...nameMapping(meta),
    };
    if (!snap) return { tableVersion: '', schema, entries: [], details, warnings };

    const columns = primitiveColumns(icebergSchema);
    const rebaser = new TableRebaser(source, meta.location, tablePath);
    const files = await readSnapshotFiles(source, rebaser, meta, columns, snap, ctx.signal, (d, t) => ctx.progress(d, t));
    for (const skipped of files.skippedEntries) {
      warnings.push(`manifest entry ${skipped.path} is a ${skipped.format} file, not a data file (parquet, avro or orc): skipped, its record_count ${skipped.records} not counted`);
    }
    await readDeleteFooters(source, files.deleteFiles, ctx.signal);
    const { attached, warnings: deleteWarnings } = attachDeletes(files.dataFiles, files.deleteFiles);
    warnings.push(...deleteWarnings);

    const entries: TableEntry[] = [];
    const seen = new Set<string>();
    let records = 0;
    for (const f of files.dataFiles) {
      if (seen.has(f.path)) {
        warnings.push(`${f.path} is live in more than one manifest entry; mapped once`);
        continue;
      }
      seen.add(f.path);
      records += f.recordCount;
      entries.push(dataFileEntry(f, attached.get(f) ?? [], columns));
    }

    const totalRecords = snap.summary['total-records'];
    if (totalRecords !== undefined && /^\d+$/.test(totalRecords) && Number(totalRecords) !== records) {
      warnings.push(`snapshot summary says ${totalRecords} records, the manifests list ${records}`);
    }
    const deleteCounts = { position: 0, equality: 0, deletionVectors: 0 };
    for (const d of files.deleteFiles) {
      const kind = deleteKind(d);
      if (kind === 'equality') deleteCounts.equality++;
      else if (kind === 'deletion-vector') deleteCounts.deletionVectors++;
      else deleteCounts.position++;
    }
    Object.assign(details, {
      snapshotId: snap.id.toString(),
      sequenceNumber: jsonInt64(snap.sequenceNumber),
      timestampMs: snap.timestampMs,
      ...(snap.summary['operation'] !== undefined ? { operation: snap.summary['operation'] } : {}),
      manifests: files.manifestCount,
      dataFiles: entries.length,
      deleteFiles: deleteCounts,
    });
    return { tableVersion: snap.id.toString(), schema, entries, details, warnings };
  },
};

/**
 * From a manifest and a segment id to what must be read: the file, its row range, and the output
 * columns (collection field names and Arrow types, with each field's external column).
 */
import { Field, FixedSizeList, Schema, Type, type List } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import { manifestArrowSchema } from '../manifest/schema.js';
import { LocalStorage } from '../storage/local.js';
import type { Manifest, ManifestFile, Segment } from '../types.js';
import type { ColumnRequest } from './parquet/reader.js';
import { SourceFile } from './source-file.js';

/** A segment located in its manifest. */
export interface ResolvedSegment {
  /** The segment. */
  segment: Segment;
  /** Its file's entry in the manifest. */
  file: ManifestFile;
  /** First row inside the file. */
  rowOffset: number;
  /** Rows. */
  rows: number;
}

/** The segment `segmentId` of `manifest`, or `SEGMENT_NOT_FOUND`. */
export function resolveSegment(manifest: Manifest, segmentId: string): ResolvedSegment {
  const segment = manifest.segments.find((s) => s.id === segmentId);
  if (!segment) {
    throw new LakemapError('SEGMENT_NOT_FOUND', `collection ${manifest.dbName}.${manifest.collectionName} has no segment ${JSON.stringify(segmentId)} in manifest version ${manifest.version}`);
  }
  const range = segment.ranges[0]!;
  const file = manifest.files.find((f) => f.path === range.path);
  if (!file) throw new LakemapError('MANIFEST_CORRUPT', `segment ${segmentId} points at ${range.path}, which the manifest does not list`);
  return { segment, file, rowOffset: range.rowOffset, rows: range.rows };
}

/** The output schema and columns: all fields, or those named in `columns` (in that order). */
export function outputColumns(manifest: Manifest, columns: readonly string[] | undefined): { schema: Schema; columns: ColumnRequest[] } {
  const full = manifestArrowSchema(manifest);
  const byName = new Map(full.fields.map((f) => [f.name, f]));
  const names = columns ?? full.fields.map((f) => f.name);
  const seen = new Set<string>();
  const out: ColumnRequest[] = names.map((name) => {
    const f = byName.get(name);
    if (!f) throw new LakemapError('FIELD_NOT_FOUND', `collection ${manifest.collectionName} has no field "${name}" (fields: ${[...byName.keys()].join(', ')})`);
    if (seen.has(name)) throw new LakemapError('INVALID_ARGUMENT', `field "${name}" is asked for twice`);
    seen.add(name);
    const mapping = manifest.fields.find((m) => m.name === name);
    const external = mapping?.externalField ?? name;
    return { field: mapping?.dim ? withDim(f, mapping.dim) : f, external };
  });
  return { schema: new Schema(out.map((c) => c.field), full.metadata), columns: out };
}

/** A list field declared with `dim`: read as FixedSizeList of the same values. */
function withDim(f: Field, dim: number): Field {
  if (f.type.typeId === Type.FixedSizeList) {
    // lance (and Arrow-typed sources) already store vectors as FixedSizeList: dim must match
    if ((f.type as FixedSizeList).listSize === dim) return f;
    throw new LakemapError('SCHEMA_MISMATCH', `field "${f.name}" declares dim ${dim} but its column is ${String(f.type)}`);
  }
  if (f.type.typeId !== Type.List) {
    throw new LakemapError('FIELD_TYPE_UNSUPPORTED', `field "${f.name}" declares dim ${dim} but its column is ${String(f.type)}, not a list`);
  }
  const child = (f.type as List).children[0]!;
  return new Field(f.name, new FixedSizeList(dim, child), f.nullable, f.metadata);
}

/** Opens a manifest file for reading, refusing it when it changed since the manifest was written. */
export function openManifestFile(manifest: Manifest, file: Pick<ManifestFile, 'path' | 'sizeBytes' | 'mtimeMs'>, budget?: number): SourceFile {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(manifest.resolvedSource) && !manifest.resolvedSource.startsWith('file://')) {
    throw new LakemapError('UNSUPPORTED', `${file.path}: reading rows from ${manifest.resolvedSource.split('://')[0]}:// sources is not supported yet (local and mounted sources only)`, { path: file.path });
  }
  const storage = new LocalStorage(manifest.resolvedSource);
  const abs = storage.resolve(file.path); // refuses a path or symlink that leads outside the source
  const f = new SourceFile(abs, file.path, budget);
  if (manifest.format === 'parquet' || manifest.format === 'vortex') {
    if (f.size !== file.sizeBytes || (file.mtimeMs !== 0 && f.mtimeMs !== file.mtimeMs)) {
      f.close();
      throw new LakemapError(
        'SOURCE_CHANGED',
        `${file.path} changed since manifest version ${manifest.version} mapped it (size ${file.sizeBytes} → ${f.size}, mtime ${file.mtimeMs} → ${f.mtimeMs}); refresh the collection`,
        { path: file.path },
      );
    }
  }
  return f;
}

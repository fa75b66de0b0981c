import { Field, Schema, Table, DataType, tableFromIPC, tableToIPC } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { FieldMapping, Manifest, ManifestSchema, SchemaField } from '../types.js';

const describeCache = new WeakMap<Schema, SchemaField[]>();

/** The readable field list of an Arrow schema; cached per schema object (scanners reuse them). */
export function describeSchema(schema: Schema): SchemaField[] {
  let fields = describeCache.get(schema);
  if (!fields) {
    fields = schema.fields.map(describeField);
    describeCache.set(schema, fields);
  }
  return fields;
}

function describeField(f: Field): SchemaField {
  const out: SchemaField = { name: f.name, type: String(f.type), nullable: f.nullable };
  const children = f.type.children as Field[] | null | undefined;
  if (children && children.length > 0) out.children = children.map(describeField);
  return out;
}

/** Serializes a schema for the manifest: readable fields plus the exact Arrow IPC bytes. */
export function encodeSchema(schema: Schema): ManifestSchema {
  const ipc = tableToIPC(new Table(schema), 'stream');
  return { fields: describeSchema(schema), arrowIpc: Buffer.from(ipc).toString('base64') };
}

/**
 * The exact Apache Arrow schema of a manifest's collection.
 *
 * @example
 * ```ts
 * const schema = manifestArrowSchema(await engine.getManifest({ collectionName: 'c' }));
 * console.log(schema.fields.map((f) => `${f.name}: ${f.type}`));
 * ```
 */
export function manifestArrowSchema(manifest: Pick<Manifest, 'schema'>): Schema {
  return tableFromIPC(Buffer.from(manifest.schema.arrowIpc, 'base64')).schema;
}

/** Types a collection field cannot be backed by. */
function unusableReason(type: DataType): string | undefined {
  if (DataType.isNull(type)) return 'it holds only nulls (type null)';
  if (DataType.isUnion(type)) return 'union types cannot back a collection field';
  if (DataType.isInterval(type)) return 'interval types cannot back a collection field';
  return undefined;
}

/**
 * The collection schema from a source schema: every column when no fields are declared, else the
 * declared fields (renamed, with the external column in field metadata). Fails naming the column and
 * `where` (a file or table) when a declared column is missing or unusable.
 */
export function collectionSchema(source: Schema, fields: FieldMapping[], where: string): Schema {
  if (fields.length === 0) return source;
  const byName = new Map(source.fields.map((f) => [f.name, f]));
  const out = fields.map((m) => {
    const col = byName.get(m.externalField);
    if (!col) {
      throw new LakemapError(
        'FIELD_NOT_FOUND',
        `field "${m.name}": column "${m.externalField}" does not exist in ${where} (columns: ${[...byName.keys()].join(', ')})`,
        { path: where },
      );
    }
    const why = unusableReason(col.type);
    if (why) {
      throw new LakemapError('FIELD_TYPE_UNSUPPORTED', `field "${m.name}": column "${m.externalField}" in ${where}: ${why}`, { path: where });
    }
    const metadata = new Map(col.metadata);
    metadata.set('lakemap:external_field', m.externalField);
    return new Field(m.name, col.type, col.nullable, metadata);
  });
  return new Schema(out, source.metadata);
}

/**
 * Record decoders for Avro writer schemas, optionally projected: a projection names the fields a reader
 * needs (nested for record fields), and avsc's resolver from the writer schema to the projected reader
 * schema skips the others without building them (per-column stats maps a manifest entry does not use,
 * for instance). The reader schema is the writer's own with fields left out, so names, types and field
 * order always resolve, whatever Iceberg version wrote the file.
 */
import avro from 'avsc';
import { corruptFile } from '../../src/scanner.js';
import { avroTypeOptions } from './avro-types.js';

/** Fields to keep of a record: `true` keeps a field whole, a nested projection keeps part of a record field. */
export interface AvroProjection {
  readonly [field: string]: true | AvroProjection;
}

/** Decodes one record at `pos` of `buf`: its value and the offset after it (-1: it runs past the end). */
export type RecordDecoder = (buf: Buffer, pos: number) => { value: unknown; offset: number };

type Json = Record<string, unknown>;

function isRecordSchema(s: unknown): s is Json & { fields: Json[] } {
  return typeof s === 'object' && s !== null && !Array.isArray(s) && (s as Json)['type'] === 'record' && Array.isArray((s as Json)['fields']);
}

/**
 * The writer schema with only the projected fields. A field whose type is a record (or a union holding
 * one) is projected further when the projection nests; anything else is kept as written.
 */
export function projectSchema(schema: unknown, keep: AvroProjection): unknown {
  if (!isRecordSchema(schema)) return schema;
  const fields = schema.fields.filter((f) => typeof f['name'] === 'string' && keep[f['name']] !== undefined).map((f) => {
    const inner = keep[f['name'] as string];
    if (inner === true) return f;
    const t = f['type'];
    return { ...f, type: Array.isArray(t) ? t.map((u) => projectSchema(u, inner!)) : projectSchema(t, inner!) };
  });
  return { ...schema, fields };
}

/** Decoders by projection, then by writer schema text (the manifests of one writer share a schema). */
const cache = new Map<AvroProjection | undefined, Map<string, RecordDecoder>>();

function build(schemaText: string, path: string, projection: AvroProjection | undefined): RecordDecoder {
  let writer: avro.Type;
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
    writer = avro.Type.forSchema(schema as avro.Schema, avroTypeOptions());
  } catch (e) {
    throw corruptFile(path, `invalid Avro writer schema (${(e as Error).message})`, e);
  }
  if (projection !== undefined) {
    try {
      const reader = avro.Type.forSchema(projectSchema(schema, projection) as avro.Schema, avroTypeOptions());
      const resolver = reader.createResolver(writer);
      return (buf, pos) => reader.decode(buf, pos, resolver);
    } catch {
      // A schema the projection cannot cut (e.g. a named type defined in a left-out field and used in a
      // kept one) is decoded whole: slower, same values for the kept fields.
    }
  }
  return (buf, pos) => writer.decode(buf, pos);
}

/** The record decoder of a writer schema, projected when `projection` is given; cached. */
export function recordDecoder(schemaText: string, path: string, projection?: AvroProjection): RecordDecoder {
  let byText = cache.get(projection);
  if (!byText) cache.set(projection, (byText = new Map()));
  let decoder = byText.get(schemaText);
  if (decoder) return decoder;
  decoder = build(schemaText, path, projection);
  if (byText.size > 64) byText.clear();
  byText.set(schemaText, decoder);
  return decoder;
}

/**
 * Iceberg schema → Apache Arrow schema. Every field carries its Iceberg field id as `PARQUET:field_id`
 * metadata (the key Arrow's parquet reader uses), so consumers can resolve columns by id across renames.
 * v3 defaults are kept as `iceberg:initial-default` / `iceberg:write-default` (JSON) on the field.
 */
import {
  Binary, Bool, DataType, DateDay, Decimal, Field, FixedSizeBinary, Float32, Float64, Int32, Int64, List, Map_,
  Null, Schema, Struct, TimeMicrosecond, Timestamp, TimeUnit, Utf8,
} from 'apache-arrow';
import { LakemapError } from '../../src/scanner.js';
import type { IcebergField, IcebergSchema, IcebergType } from './types.js';

/** Field metadata key holding the Iceberg field id. */
export const FIELD_ID_KEY = 'PARQUET:field_id';

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function idMeta(id: number, extra?: Record<string, string>): Map<string, string> {
  const m = new Map([[FIELD_ID_KEY, String(id)]]);
  if (extra) for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

function primitiveToArrow(t: string, where: string): { type: DataType; meta?: Record<string, string> } {
  switch (t) {
    case 'boolean': return { type: new Bool() };
    case 'int': return { type: new Int32() };
    case 'long': return { type: new Int64() };
    case 'float': return { type: new Float32() };
    case 'double': return { type: new Float64() };
    case 'date': return { type: new DateDay() };
    case 'time': return { type: new TimeMicrosecond() };
    case 'timestamp': return { type: new Timestamp(TimeUnit.MICROSECOND) };
    case 'timestamptz': return { type: new Timestamp(TimeUnit.MICROSECOND, 'UTC') };
    case 'timestamp_ns': return { type: new Timestamp(TimeUnit.NANOSECOND) };
    case 'timestamptz_ns': return { type: new Timestamp(TimeUnit.NANOSECOND, 'UTC') };
    case 'string': return { type: new Utf8() };
    case 'binary': return { type: new Binary() };
    case 'uuid': return { type: new FixedSizeBinary(16), meta: { 'ARROW:extension:name': 'arrow.uuid' } };
    case 'unknown': return { type: new Null() };
    case 'variant': return { type: new Binary(), meta: { 'iceberg:type': 'variant' } };
  }
  const dec = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (dec) {
    const precision = Number(dec[1]);
    if (precision < 1 || precision > 38) throw new LakemapError('UNSUPPORTED', `${where}: decimal precision ${precision} is outside 1..38`);
    return { type: new Decimal(Number(dec[2]), precision, 128) };
  }
  const fixed = /^fixed\[\s*(\d+)\s*\]$/.exec(t);
  if (fixed) return { type: new FixedSizeBinary(Number(fixed[1])) };
  // v3 geo types are WKB; the exact type text is kept for the consumer.
  if (/^(geometry|geography)\b/.test(t)) return { type: new Binary(), meta: { 'iceberg:type': t } };
  throw new LakemapError('UNSUPPORTED', `${where}: Iceberg type ${JSON.stringify(t)} is not known`);
}

function typeToArrow(t: IcebergType, where: string): { type: DataType; meta?: Record<string, string> } {
  if (typeof t === 'string') return primitiveToArrow(t, where);
  if (t && typeof t === 'object') {
    if (t.type === 'struct' && Array.isArray(t.fields)) return { type: new Struct(t.fields.map((f) => fieldToArrow(f, where))) };
    if (t.type === 'list') {
      const el = typeToArrow(t.element, `${where}.element`);
      return { type: new List(new Field('element', el.type, !t['element-required'], idMeta(t['element-id'], el.meta))) };
    }
    if (t.type === 'map') {
      const k = typeToArrow(t.key, `${where}.key`);
      const v = typeToArrow(t.value, `${where}.value`);
      const entries = new Struct([
        new Field('key', k.type, false, idMeta(t['key-id'], k.meta)),
        new Field('value', v.type, !t['value-required'], idMeta(t['value-id'], v.meta)),
      ]);
      return { type: new Map_(new Field('entries', entries, false)) };
    }
  }
  throw new LakemapError('UNSUPPORTED', `${where}: Iceberg type ${jsonText(t)} is not known`);
}

function fieldToArrow(f: IcebergField, parent: string): Field {
  const where = parent ? `${parent}.${f.name}` : f.name;
  if (typeof f.name !== 'string' || typeof f.id !== 'number') {
    throw new LakemapError('CORRUPT_FILE', `schema field ${jsonText(f).slice(0, 120)} has no name or id`);
  }
  const { type, meta } = typeToArrow(f.type, where);
  const extra: Record<string, string> = { ...meta };
  if (f['initial-default'] !== undefined) extra['iceberg:initial-default'] = jsonText(f['initial-default']);
  if (f['write-default'] !== undefined) extra['iceberg:write-default'] = jsonText(f['write-default']);
  if (f.doc !== undefined) extra['iceberg:doc'] = String(f.doc);
  return new Field(f.name, type, !f.required, idMeta(f.id, extra));
}

/** The Arrow schema of an Iceberg schema; throws `UNSUPPORTED` for a type it does not know. */
export function icebergSchemaToArrow(schema: IcebergSchema, context: string): Schema {
  try {
    return new Schema(schema.fields.map((f) => fieldToArrow(f, '')), new Map([['iceberg:schema-id', String(schema['schema-id'])]]));
  } catch (e) {
    if (LakemapError.is(e)) throw new LakemapError(e.code, `${context}: ${e.message}`, { path: context, cause: e });
    throw new LakemapError('CORRUPT_FILE', `${context}: cannot map the schema (${(e as Error).message})`, { path: context, cause: e });
  }
}

/** A primitive column of a schema: its dotted name and Iceberg type, by field id. */
export interface SchemaColumn {
  name: string;
  type: string;
}

/** Every primitive field of `schema` (nested ones with dotted names), by field id. */
export function primitiveColumns(schema: IcebergSchema): Map<number, SchemaColumn> {
  const out = new Map<number, SchemaColumn>();
  const walk = (id: number, name: string, t: IcebergType) => {
    if (typeof t === 'string') out.set(id, { name, type: t });
    else if (t?.type === 'struct') for (const f of t.fields ?? []) walk(f.id, `${name}.${f.name}`, f.type);
    else if (t?.type === 'list') walk(t['element-id'], `${name}.element`, t.element);
    else if (t?.type === 'map') {
      walk(t['key-id'], `${name}.key`, t.key);
      walk(t['value-id'], `${name}.value`, t.value);
    }
  };
  for (const f of schema.fields) walk(f.id, f.name, f.type);
  return out;
}

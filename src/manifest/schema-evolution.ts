/**
 * One collection schema from the schemas of many files, as lakes evolve: the union of columns by name
 * (DuckDB's `union_by_name`), a column missing from some files nullable, and the widenings Iceberg's
 * type-promotion rules allow giving the wider type. Anything else fails `SCHEMA_MISMATCH` naming both
 * files and the column, or skips the later file under `skip_invalid`.
 */
import { DataType, Decimal, Field, Schema, Struct, List, FixedSizeList, type Timestamp } from 'apache-arrow';
import { LakemapError } from '../errors.js';
import type { FieldMapping, ManifestFile, SkippedFile } from '../types.js';

/** What the merge needs: probed files in path order and the Arrow schema behind each `schemaIndex`. */
export interface SchemaMergeInput {
  files: ManifestFile[];
  schemaOf(index: number): Schema;
  /** Declared fields: when present only their external columns must agree. */
  fields: FieldMapping[];
  /** Skip a file whose schema conflicts instead of failing the refresh. */
  skipInvalid: boolean;
}

/** The merged schema, the files kept (with `details.missingColumns` where they lack a column) and those skipped. */
export interface SchemaMergeResult {
  schema: Schema;
  /** The file the merged schema starts from (messages). */
  schemaWhere: string;
  files: ManifestFile[];
  skipped: SkippedFile[];
}

interface MergedColumn {
  field: Field;
  /** The first file that had the column with its current type (for messages). */
  from: string;
}

/**
 * Merges the distinct schemas of `files` in path order. The result's column order is first appearance;
 * a column some file lacks is nullable, and that file records it in `details.missingColumns`.
 */
export function mergeFileSchemas(input: SchemaMergeInput): SchemaMergeResult {
  const { files, fields, skipInvalid } = input;
  const mapped = fields.length > 0 ? new Set(fields.map((f) => f.externalField)) : undefined;
  const firstPath = new Map<number, string>();
  for (const f of files) if (!firstPath.has(f.schemaIndex)) firstPath.set(f.schemaIndex, f.path);

  const merged = new Map<string, MergedColumn>();
  const rejected = new Map<number, string>(); // schemaIndex → reason
  let metadata: Map<string, string> | undefined;
  let seen = 0;
  for (const [index, path] of firstPath) {
    const schema = input.schemaOf(index);
    // Compute the whole update first, so a rejected schema leaves the merge untouched.
    const update = new Map<string, MergedColumn>();
    let conflict: LakemapError | undefined;
    for (const field of schema.fields) {
      const prev = merged.get(field.name);
      if (!prev) {
        update.set(field.name, { field: seen > 0 ? withNullable(field) : field, from: path });
        continue;
      }
      const wider = widerField(prev.field, field);
      if (wider) {
        if (wider !== prev.field) update.set(field.name, { field: wider, from: wider.type === prev.field.type ? prev.from : path });
      } else if (!mapped || mapped.has(field.name)) {
        conflict ??= new LakemapError(
          'SCHEMA_MISMATCH',
          `column "${field.name}" is ${typeName(prev.field.type)} in ${prev.from} but ${typeName(field.type)} in ${path}, and neither widens to the other (allowed: int8/16/32 → int64, float32 → float64, decimal(p, s) → decimal(p', s) with p' ≥ p, date → timestamp)`,
          { path },
        );
      }
    }
    if (conflict) {
      if (!skipInvalid) throw conflict;
      rejected.set(index, conflict.message);
      continue;
    }
    if (seen > 0) {
      // Columns this schema lacks become nullable.
      const has = new Set(schema.fields.map((f) => f.name));
      for (const [name, col] of merged) if (!has.has(name) && !update.has(name)) update.set(name, { ...col, field: withNullable(col.field) });
    }
    for (const [name, col] of update) merged.set(name, col);
    metadata ??= schema.metadata;
    seen++;
  }

  const kept: ManifestFile[] = [];
  const skipped: SkippedFile[] = [];
  const columns = [...merged.keys()];
  const lacking = new Map<number, string[]>();
  for (const [index] of firstPath) {
    if (rejected.has(index)) continue;
    const has = new Set(input.schemaOf(index).fields.map((f) => f.name));
    lacking.set(index, columns.filter((c) => !has.has(c) && (!mapped || mapped.has(c))));
  }
  for (const f of files) {
    const reason = rejected.get(f.schemaIndex);
    if (reason !== undefined) {
      skipped.push({ path: f.path, code: 'SCHEMA_MISMATCH', reason });
      continue;
    }
    kept.push(withMissingColumns(f, lacking.get(f.schemaIndex)!));
  }
  const schema = new Schema([...merged.values()].map((c) => c.field), metadata);
  return { schema, schemaWhere: kept[0]?.path ?? '', files: kept, skipped };
}

function withMissingColumns(f: ManifestFile, missing: string[]): ManifestFile {
  const had = f.details !== undefined && 'missingColumns' in f.details;
  if (missing.length === 0 && !had) return f;
  const { missingColumns: _stale, ...rest } = f.details ?? {};
  const details = missing.length > 0 ? { ...rest, missingColumns: missing } : rest;
  const out: ManifestFile = { ...f, details };
  if (Object.keys(details).length === 0) delete out.details;
  return out;
}

function withNullable(f: Field): Field {
  return f.nullable ? f : new Field(f.name, f.type, true, f.metadata);
}

/** The field both `a` and `b` fit in (`a` itself when nothing changes), or undefined when none is allowed. */
function widerField(a: Field, b: Field): Field | undefined {
  const type = widerType(a.type, b.type);
  if (!type) return undefined;
  const nullable = a.nullable || b.nullable;
  if (type === a.type && nullable === a.nullable) return a;
  return new Field(a.name, type, nullable, a.metadata);
}

/** The wider of two types under Iceberg's promotion rules (`a` when they are the same). */
function widerType(a: DataType, b: DataType): DataType | undefined {
  if (DataType.isInt(a) && DataType.isInt(b)) {
    if (a.isSigned === b.isSigned) return b.bitWidth > a.bitWidth ? b : a;
    const [u, s] = a.isSigned ? [b, a] : [a, b];
    if (s.bitWidth > u.bitWidth) return s; // an unsigned int fits a strictly wider signed one
    return undefined;
  }
  if (DataType.isFloat(a) && DataType.isFloat(b)) return b.precision > a.precision ? b : a;
  if (DataType.isDecimal(a) && DataType.isDecimal(b)) {
    if (a.scale !== b.scale) return undefined;
    return b.precision > a.precision || b.bitWidth > a.bitWidth ? b : a;
  }
  if (DataType.isDate(a) && DataType.isTimestamp(b)) return dateToTimestamp(b);
  if (DataType.isTimestamp(a) && DataType.isDate(b)) return dateToTimestamp(a);
  if (DataType.isStruct(a) && DataType.isStruct(b)) return widerStruct(a, b);
  if ((DataType.isList(a) && DataType.isList(b)) || (DataType.isFixedSizeList(a) && DataType.isFixedSizeList(b) && a.listSize === b.listSize)) {
    const item = widerField(a.children[0]!, b.children[0]!);
    if (!item) return undefined;
    if (item === a.children[0]) return a;
    return DataType.isList(a) ? new List(item) : new FixedSizeList((a as FixedSizeList).listSize, item);
  }
  return sameType(a, b) ? a : undefined;
}

/** Iceberg v3 promotes date to timestamp and timestamp_ns, without time zone. */
function dateToTimestamp(t: Timestamp): DataType | undefined {
  return t.timezone ? undefined : t;
}

/** Struct fields merge by name like top-level columns (Iceberg adds struct fields too). */
function widerStruct(a: Struct, b: Struct): DataType | undefined {
  const out = new Map(a.children.map((f) => [f.name, f]));
  let changed = false;
  for (const f of b.children) {
    const prev = out.get(f.name);
    if (!prev) {
      out.set(f.name, withNullable(f));
      changed = true;
      continue;
    }
    const w = widerField(prev, f);
    if (!w) return undefined;
    if (w !== prev) changed = true;
    out.set(f.name, w);
  }
  const bNames = new Set(b.children.map((f) => f.name));
  for (const [name, f] of out) {
    if (!bNames.has(name) && !f.nullable) {
      out.set(name, withNullable(f));
      changed = true;
    }
  }
  return changed ? new Struct([...out.values()]) : a;
}

function sameType(a: DataType, b: DataType): boolean {
  if (String(a) !== String(b) || a.typeId !== b.typeId) return false;
  const ac = (a.children ?? []) as Field[];
  const bc = (b.children ?? []) as Field[];
  return ac.length === bc.length && ac.every((f, i) => f.name === bc[i]!.name && sameType(f.type, bc[i]!.type));
}

/**
 * An Arrow type as a person writes it: `Decimal(21, 1)` (not Arrow's `Decimal[21e+1]`),
 * `Timestamp(MICROSECOND, UTC)`, `List<Int32>`, `Struct<a: Int32, b: Utf8>`, `FixedSizeList(3)<Float32>`.
 */
export function typeName(t: DataType): string {
  if (DataType.isDecimal(t)) return `Decimal(${(t as Decimal).precision}, ${(t as Decimal).scale})`;
  if (DataType.isTimestamp(t)) return `Timestamp(${unitName(t.unit)}${t.timezone ? `, ${t.timezone}` : ''})`;
  if (DataType.isList(t)) return `List<${typeName(t.children[0]!.type)}>`;
  if (DataType.isFixedSizeList(t)) return `FixedSizeList(${t.listSize})<${typeName(t.children[0]!.type)}>`;
  if (DataType.isStruct(t)) return `Struct<${t.children.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ')}>`;
  return String(t);
}

function unitName(unit: number): string {
  return ['SECOND', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND'][unit] ?? String(unit);
}

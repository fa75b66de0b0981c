// Schemas built by another copy of apache-arrow. A user's scanner may import its own Arrow (another
// version, or the same version installed twice); Arrow's classes check `instanceof`, so such a schema
// fails deep inside Arrow ("Vector constructor expects an Array of Data instances"). Arrow's type ids
// and type parameters are part of the Arrow format and stable across versions, so a schema that is
// structurally an Arrow schema is rebuilt here with the copy lakemap loads.
import * as arrow from 'apache-arrow';
import { DataType, Field, Schema } from 'apache-arrow';
import { LakemapError } from '../errors.js';

/** Constructors present only in newer Arrow releases; looked up so both ends of the peer range work. */
const optional = arrow as unknown as Record<string, (new (...args: unknown[]) => DataType) | undefined>;

type Loose = Record<string, unknown>;

/**
 * `schema` as a Schema of the apache-arrow copy lakemap loads: itself when it already is one, else
 * rebuilt from its fields. `where` names the file or table in errors.
 */
export function adoptSchema(schema: unknown, where: string): Schema {
  if (schema instanceof Schema) return schema;
  const s = schema as Loose | null;
  if (!s || typeof s !== 'object' || !Array.isArray(s.fields)) {
    throw new LakemapError('SCANNER_ERROR', `the scanner returned no Apache Arrow schema for ${where}`, { path: where });
  }
  const fields = (s.fields as unknown[]).map((f) => adoptField(f, where));
  return new Schema(fields, metadataOf(s.metadata));
}

function adoptField(f: unknown, where: string): Field {
  if (f instanceof Field) return f;
  const o = f as Loose | null;
  if (!o || typeof o !== 'object' || typeof o.name !== 'string' || !o.type || typeof o.type !== 'object') {
    throw new LakemapError('SCANNER_ERROR', `the scanner returned a schema with a malformed field for ${where}`, { path: where });
  }
  return new Field(o.name, adoptType(o.type as Loose, o.name, where), o.nullable !== false, metadataOf(o.metadata));
}

function adoptType(t: Loose, column: string, where: string): DataType {
  if (t instanceof DataType) return t;
  const children = (): Field[] => ((t.children as unknown[] | null | undefined) ?? []).map((c) => adoptField(c, where));
  const child = (): Field => {
    const c = children()[0];
    if (!c) throw new LakemapError('SCANNER_ERROR', `column "${column}" in ${where}: a nested type without a child field`, { path: where });
    return c;
  };
  const n = (k: string): number => Number(t[k]);
  switch (t.typeId) {
    case arrow.Type.Null: return new arrow.Null();
    case arrow.Type.Int: return new arrow.Int(Boolean(t.isSigned), n('bitWidth') as 8 | 16 | 32 | 64);
    case arrow.Type.Float: return new arrow.Float(n('precision'));
    case arrow.Type.Binary: return new arrow.Binary();
    case arrow.Type.Utf8: return new arrow.Utf8();
    case arrow.Type.Bool: return new arrow.Bool();
    case arrow.Type.Decimal: return new arrow.Decimal(n('scale'), n('precision'), n('bitWidth'));
    case arrow.Type.Date: return new arrow.Date_(n('unit'));
    case arrow.Type.Time: return new arrow.Time(n('unit'), n('bitWidth') as 32 | 64);
    case arrow.Type.Timestamp: return new arrow.Timestamp(n('unit'), (t.timezone as string | null | undefined) ?? null);
    case arrow.Type.Interval: return new arrow.Interval(n('unit'));
    case arrow.Type.Duration: return new arrow.Duration(n('unit'));
    case arrow.Type.List: return new arrow.List(child());
    case arrow.Type.Struct: return new arrow.Struct(children());
    case arrow.Type.Union: return new arrow.Union(n('mode'), Array.from(t.typeIds as ArrayLike<number>), children());
    case arrow.Type.FixedSizeBinary: return new arrow.FixedSizeBinary(n('byteWidth'));
    case arrow.Type.FixedSizeList: return new arrow.FixedSizeList(n('listSize'), child());
    case arrow.Type.Map: return new arrow.Map_(child() as Field<arrow.Struct>, Boolean(t.keysSorted));
    case arrow.Type.LargeBinary: return new arrow.LargeBinary();
    case arrow.Type.LargeUtf8: return new arrow.LargeUtf8();
    case arrow.Type.Dictionary: {
      const value = adoptType(t.dictionary as Loose, column, where);
      const indices = adoptType(t.indices as Loose, column, where) as arrow.Int32;
      return new arrow.Dictionary(value, indices, t.id as number | bigint | null, Boolean(t.isOrdered));
    }
  }
  // Types newer than the oldest supported Arrow (LargeList, BinaryView, Utf8View): use them when the
  // loaded copy has them, else say which copy lacks what.
  const name = typeName(t);
  const ctor = name ? optional[name] : undefined;
  if (name === 'LargeList' && ctor) return new ctor(child());
  if ((name === 'BinaryView' || name === 'Utf8View') && ctor) return new ctor();
  throw new LakemapError(
    'UNSUPPORTED',
    `column "${column}" in ${where}: Arrow type ${String(t)} (type id ${String(t.typeId)}) is not known to the apache-arrow copy lakemap loads; install a newer apache-arrow`,
    { path: where },
  );
}

function typeName(t: Loose): string | undefined {
  const ids: Record<number, string> = { 21: 'LargeList', 23: 'BinaryView', 24: 'Utf8View' };
  return ids[Number(t.typeId)];
}

function metadataOf(m: unknown): Map<string, string> | undefined {
  if (m instanceof Map) return new Map(m);
  if (m && typeof m === 'object' && typeof (m as Map<string, string>).forEach === 'function') {
    const out = new Map<string, string>();
    (m as Map<string, string>).forEach((v, k) => out.set(k, v));
    return out;
  }
  return undefined;
}

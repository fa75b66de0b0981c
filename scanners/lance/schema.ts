/**
 * Lance schema → Apache Arrow schema. The manifest lists fields flat in pre-order, each naming its
 * parent by id; logical types are strings (`lance-core` `LogicalType`), e.g. `int64`,
 * `fixed_size_list:float:128`, `timestamp:us:UTC`, `decimal:128:10:2`, `dict:string:int32:false`.
 *
 * @module
 */
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Decimal, Dictionary, DurationMicrosecond,
  DurationMillisecond, DurationNanosecond, DurationSecond, Field, FixedSizeBinary, FixedSizeList,
  Float16, Float32, Float64, Int16, Int32, Int64, Int8, LargeBinary, LargeUtf8, List, Null, Schema,
  Struct, TimeMicrosecond, TimeMillisecond, TimeNanosecond, TimeSecond, Timestamp, TimeUnit, Uint16,
  Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow';
import type { LanceField } from './types.js';

/** Arrow field metadata key holding the Lance field id (like parquet's `PARQUET:field_id`). */
export const FIELD_ID_KEY = 'lance:field_id';
/** Arrow field metadata key holding the Lance logical type when Arrow JS has no exact equivalent. */
export const LOGICAL_TYPE_KEY = 'lance:logical_type';

/** The Arrow schema and what a person should know about it. */
export interface MappedSchema {
  /** The schema, top-level columns in manifest order. */
  schema: Schema;
  /** Oddities that do not stop mapping (duplicate field ids, types Arrow JS cannot express). */
  warnings: string[];
}

interface Node {
  field: LanceField;
  children: Node[];
}

/** Builds the Arrow schema of `fields`; throws a plain `Error` for a schema that cannot form a tree. */
export function lanceSchemaToArrow(fields: LanceField[], metadata: Record<string, string>): MappedSchema {
  const warnings: string[] = [];
  const roots: Node[] = [];
  const byId = new Map<number, Node>(); // first node per id, as Lance resolves parents
  const duplicates = new Set<number>();
  for (const field of fields) {
    const node: Node = { field, children: [] };
    if (field.parentId === -1) roots.push(node);
    else {
      const parent = byId.get(field.parentId);
      if (!parent) throw new Error(`field "${field.name}" (id ${field.id}) names parent id ${field.parentId}, which no earlier field has`);
      parent.children.push(node);
    }
    if (byId.has(field.id)) duplicates.add(field.id);
    else byId.set(field.id, node);
  }
  if (duplicates.size > 0) {
    warnings.push(
      `schema has duplicate field ids (${[...duplicates].join(', ')}), a known bug of old Lance writers after add/drop columns; ` +
        'row counts are unaffected but which data file holds those columns is ambiguous',
    );
  }
  const ctx: BuildContext = { warnings, nextDictId: 0 };
  const arrowFields = roots.map((n) => toArrowField(n, ctx));
  return { schema: new Schema(arrowFields, new Map(Object.entries(metadata))), warnings };
}

interface BuildContext {
  warnings: string[];
  nextDictId: number;
}

function toArrowField(node: Node, ctx: BuildContext): Field {
  const { field } = node;
  const meta = new Map(Object.entries(field.metadata));
  meta.set(FIELD_ID_KEY, String(field.id));
  if (field.extensionName !== '' && !meta.has('ARROW:extension:name')) meta.set('ARROW:extension:name', field.extensionName);
  const type = toArrowType(node, ctx, meta);
  return new Field(field.name, type, field.nullable, meta);
}

function toArrowType(node: Node, ctx: BuildContext, meta: Map<string, string>): DataType {
  const lt = node.field.logicalType;
  const name = node.field.name;
  if (lt === 'struct') return new Struct(node.children.map((c) => toArrowField(c, ctx)));
  if (lt === 'list' || lt === 'list.struct' || lt === 'large_list' || lt === 'large_list.struct') {
    if (node.children.length !== 1) throw new Error(`list field "${name}" has ${node.children.length} child fields, expected 1`);
    if (lt.startsWith('large_')) meta.set(LOGICAL_TYPE_KEY, lt); // Arrow JS has no LargeList: keep the fact
    return new List(toArrowField(node.children[0]!, ctx));
  }
  const type = leafType(lt, ctx);
  if (type) return type;
  ctx.warnings.push(`column "${name}" has Lance type "${lt}", which lakemap does not map; it is shown as null`);
  meta.set(LOGICAL_TYPE_KEY, lt);
  return new Null();
}

const SIMPLE: Record<string, () => DataType> = {
  null: () => new Null(),
  bool: () => new Bool(),
  int8: () => new Int8(),
  uint8: () => new Uint8(),
  int16: () => new Int16(),
  uint16: () => new Uint16(),
  int32: () => new Int32(),
  uint32: () => new Uint32(),
  int64: () => new Int64(),
  uint64: () => new Uint64(),
  halffloat: () => new Float16(),
  float: () => new Float32(),
  double: () => new Float64(),
  string: () => new Utf8(),
  binary: () => new Binary(),
  large_string: () => new LargeUtf8(),
  large_binary: () => new LargeBinary(),
  json: () => new LargeBinary(),
  'date32:day': () => new DateDay(),
  'date64:ms': () => new DateMillisecond(),
  'time32:s': () => new TimeSecond(),
  'time32:ms': () => new TimeMillisecond(),
  'time64:us': () => new TimeMicrosecond(),
  'time64:ns': () => new TimeNanosecond(),
  'time:s': () => new TimeSecond(),
  'time:ms': () => new TimeMillisecond(),
  'time:us': () => new TimeMicrosecond(),
  'time:ns': () => new TimeNanosecond(),
  'duration:s': () => new DurationSecond(),
  'duration:ms': () => new DurationMillisecond(),
  'duration:us': () => new DurationMicrosecond(),
  'duration:ns': () => new DurationNanosecond(),
};

const UNITS: Record<string, TimeUnit> = {
  s: TimeUnit.SECOND,
  ms: TimeUnit.MILLISECOND,
  us: TimeUnit.MICROSECOND,
  ns: TimeUnit.NANOSECOND,
};

/** A leaf logical type, or undefined when it is not one lakemap knows. */
function leafType(lt: string, ctx: BuildContext): DataType | undefined {
  const simple = SIMPLE[lt];
  if (simple) return simple();
  const parts = lt.split(':');
  switch (parts[0]) {
    case 'fixed_size_list': {
      if (parts.length < 3) return undefined;
      const size = positiveInt(parts[parts.length - 1]!);
      const inner = parts.slice(1, -1).join(':');
      if (size === undefined) return undefined;
      if (inner === 'lance.bfloat16') {
        const item = new Field('item', new FixedSizeBinary(2), true, new Map([['ARROW:extension:name', 'lance.bfloat16'], ['ARROW:extension:metadata', '']]));
        return new FixedSizeList(size, item);
      }
      const itemType = leafType(inner, ctx);
      return itemType ? new FixedSizeList(size, new Field('item', itemType, true)) : undefined;
    }
    case 'fixed_size_binary': {
      const size = parts.length === 2 ? positiveInt(parts[1]!) : undefined;
      return size === undefined ? undefined : new FixedSizeBinary(size);
    }
    case 'decimal': {
      if (parts.length !== 4) return undefined;
      const bits = Number(parts[1]);
      const precision = positiveInt(parts[2]!);
      const scale = Number(parts[3]);
      if ((bits !== 128 && bits !== 256) || precision === undefined || !Number.isInteger(scale)) return undefined;
      return new Decimal(scale, precision, bits);
    }
    case 'timestamp': {
      const unit = UNITS[parts[1] ?? ''];
      if (unit === undefined || parts.length < 2) return undefined;
      const tz = parts.length > 2 ? parts.slice(2).join(':') : '-'; // a zone such as +05:30 holds a colon
      return new Timestamp(unit, tz === '-' ? null : tz);
    }
    case 'dict': {
      if (parts.length !== 4) return undefined;
      const value = leafType(parts[1]!, ctx);
      const index = leafType(parts[2]!, ctx);
      if (!value || !index || !DataType.isInt(index)) return undefined;
      return new Dictionary(value, index as Int8 | Int16 | Int32 | Uint8 | Uint16 | Uint32, ctx.nextDictId++);
    }
    default:
      return undefined;
  }
}

function positiveInt(s: string): number | undefined {
  if (!/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && n <= 0x7fffffff ? n : undefined;
}

/**
 * Maps a parquet schema (the flattened list of `SchemaElement`s) to an Apache Arrow `Schema`.
 *
 * Types follow the rules Arrow's own parquet readers use: logical type first, then the legacy
 * converted type, then the physical type; LIST and MAP in their 3-level form and the backward
 * compatibility rules of parquet-format's `LogicalTypes.md` for 2-level lists; a repeated field
 * outside a LIST is a non-null list of required values. Field ids become the field metadata
 * `PARQUET:field_id`, as Arrow writes them.
 */
import {
  Binary, Bool, DataType, DateDay, Decimal, Field, FixedSizeBinary, Float16, Float32, Float64, Int8, Int16, Int32, Int64,
  List, Map_, Null, Schema, Struct, Time, TimeUnit as ArrowTimeUnit, Timestamp, Uint8, Uint16, Uint32, Uint64, Utf8,
} from 'apache-arrow';
import { ConvertedType, PhysicalType, Repetition, type LogicalType, type SchemaElement, type TimeUnit } from './types.js';

/** A schema element that cannot be mapped (bad tree shape, unknown enum); becomes `CORRUPT_FILE`. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** A mapped parquet schema. */
export interface MappedSchema {
  /** The Arrow schema (cut to the first `maxColumns` top-level columns when the file has more). */
  schema: Schema;
  /** Leaf (primitive) columns of the whole file: every row group must hold one column chunk per leaf. */
  leafCount: number;
  /** Top-level columns the file declares; more than `schema.fields.length` when the schema was cut. */
  columns: number;
}

/** Schema elements read one at a time, so columns past a cap are checked and counted but never kept. */
export interface SchemaElementSource {
  /** Elements in the list (root included). */
  readonly count: number;
  /** The next element, depth first. */
  next(): SchemaElement;
}

/** Nesting deeper than this is refused: the mapping recurses once per level. */
const MAX_NESTING = 200;

interface Node {
  el: SchemaElement;
  children: Node[] | undefined;
}

interface TreeState {
  src: SchemaElementSource;
  next: number;
  leaves: number;
}

/**
 * Maps a flattened schema list (root first) to Arrow. Top-level columns past `maxColumns` are read
 * and checked (tree shape, leaf count) but no object is kept for them: a footer declaring a million
 * columns costs the memory of `maxColumns`.
 */
export function mapParquetSchema(elements: readonly SchemaElement[] | SchemaElementSource, maxColumns = Infinity): MappedSchema {
  const src: SchemaElementSource = isSource(elements) ? elements : arraySource(elements);
  if (src.count === 0) throw new SchemaError('the schema is empty (no root element)');
  const state: TreeState = { src, next: 0, leaves: 0 };
  const rootEl = take(state);
  const count = checkChildren(rootEl, state);
  const kept: Node[] = new Array(Math.min(count, maxColumns));
  for (let i = 0; i < count; i++) {
    if (i < maxColumns) kept[i] = readTree(state, 1);
    else skipTree(state, 1);
  }
  if (state.next !== src.count) {
    throw new SchemaError(`the schema tree covers ${state.next} of ${src.count} elements (num_children disagrees with the list)`);
  }
  return { schema: new Schema(kept.map(fieldOf)), leafCount: state.leaves, columns: count };
}

function isSource(e: readonly SchemaElement[] | SchemaElementSource): e is SchemaElementSource {
  return typeof (e as SchemaElementSource).next === 'function';
}

function arraySource(elements: readonly SchemaElement[]): SchemaElementSource {
  let i = 0;
  return { count: elements.length, next: () => elements[i++]! };
}

function take(state: TreeState): SchemaElement {
  state.next++;
  return state.src.next();
}

/** The element's child count, checked against the elements that follow. */
function checkChildren(el: SchemaElement, state: TreeState): number {
  const count = el.numChildren ?? 0;
  if (count < 0 || count > state.src.count - state.next) {
    throw new SchemaError(`group "${el.name}" claims ${count} children but ${state.src.count - state.next} elements follow`);
  }
  return count;
}

function isGroup(el: SchemaElement): boolean {
  const n = el.numChildren;
  return (n !== undefined && n > 0) || (el.type === undefined && n !== undefined);
}

/** Rebuilds the tree from the depth-first list, checking every `num_children` against what is left. */
function readTree(state: TreeState, depth: number): Node {
  if (depth > MAX_NESTING) throw new SchemaError(`schema nested deeper than ${MAX_NESTING} levels`);
  const el = take(state);
  if (!isGroup(el)) {
    if (el.type === undefined) throw new SchemaError(`leaf "${el.name}" has no physical type`);
    state.leaves++;
    return { el, children: undefined };
  }
  const count = checkChildren(el, state);
  const children: Node[] = new Array(count);
  for (let i = 0; i < count; i++) children[i] = readTree(state, depth + 1);
  return { el, children };
}

/** Consumes a subtree with the checks of {@link readTree}, counting its leaves and keeping nothing. */
function skipTree(state: TreeState, depth: number): void {
  if (depth > MAX_NESTING) throw new SchemaError(`schema nested deeper than ${MAX_NESTING} levels`);
  const el = take(state);
  if (!isGroup(el)) {
    if (el.type === undefined) throw new SchemaError(`leaf "${el.name}" has no physical type`);
    state.leaves++;
    return;
  }
  const count = checkChildren(el, state);
  for (let i = 0; i < count; i++) skipTree(state, depth + 1);
}

function fieldOf(node: Node): Field {
  const el = node.el;
  checkRepetition(el);
  if (el.repetition === Repetition.REPEATED) {
    // A repeated field outside a LIST group: a list that is never null, of values that are never null.
    return new Field(el.name, new List(new Field(el.name, typeOf(node), false, fieldMetadata(el))), false);
  }
  return new Field(el.name, typeOf(node), el.repetition === Repetition.OPTIONAL, fieldMetadata(el));
}

function typeOf(node: Node): DataType {
  const el = node.el;
  if (!node.children) return primitiveType(el);
  const kind = el.logicalType?.kind;
  if (kind === 'list' || el.convertedType === ConvertedType.LIST) return listType(node) ?? structType(node);
  if (kind === 'map' || el.convertedType === ConvertedType.MAP || el.convertedType === ConvertedType.MAP_KEY_VALUE) {
    return mapType(node) ?? structType(node);
  }
  return structType(node);
}

function structType(node: Node): DataType {
  return new Struct(node.children!.map(fieldOf));
}

/** A LIST group, or `undefined` when its shape is not a list at all (then it is read as a struct). */
function listType(node: Node): DataType | undefined {
  const children = node.children!;
  if (children.length !== 1) return undefined;
  const repeated = children[0]!;
  if (repeated.el.repetition !== Repetition.REPEATED) return undefined;
  const rc = repeated.children;
  // LogicalTypes.md backward-compatibility rules, in order:
  if (!rc) return new List(new Field(repeated.el.name, primitiveType(repeated.el), false, fieldMetadata(repeated.el))); // 1: repeated primitive
  // 2: a repeated multi-field group, 3: a one-field group named `array` or `<list>_tuple` — the group
  // itself is the element (typeOf honours its own annotation: old_list_structure.parquet nests a LIST there).
  if (rc.length !== 1 || repeated.el.name === 'array' || repeated.el.name === `${node.el.name}_tuple`) {
    return new List(new Field(repeated.el.name, typeOf(repeated), false, fieldMetadata(repeated.el)));
  }
  return new List(fieldOf(rc[0]!)); // 4: standard 3-level list
}

/** A MAP group, or `undefined` when its shape is not a map (then it is read as a struct). */
function mapType(node: Node): DataType | undefined {
  const children = node.children!;
  if (children.length !== 1) return undefined;
  const kv = children[0]!;
  const kvc = kv.children;
  if (kv.el.repetition !== Repetition.REPEATED || !kvc || kvc.length < 1 || kvc.length > 2) return undefined;
  const key = kvc[0]!;
  checkRepetition(key.el);
  const keyField = new Field(key.el.name, typeOf(key), false, fieldMetadata(key.el));
  // A key_value group without a value (map_no_value.parquet) holds keys only: read it as a list of keys.
  if (kvc.length === 1) return new List(keyField);
  const entries = new Field(kv.el.name, new Struct([keyField, fieldOf(kvc[1]!)]), false);
  return new Map_(entries as Field<Struct<{ key: DataType; value: DataType }>>, false);
}

function primitiveType(el: SchemaElement): DataType {
  const lt = el.logicalType;
  const ct = el.convertedType;
  if (ct !== undefined && (ct < 0 || ct > ConvertedType.INTERVAL)) throw new SchemaError(`column "${el.name}" has unknown converted type ${ct}`);
  switch (el.type) {
    case PhysicalType.BOOLEAN:
      return new Bool();
    case PhysicalType.INT32:
      return int32Type(el, lt, ct);
    case PhysicalType.INT64:
      return int64Type(el, lt, ct);
    case PhysicalType.INT96:
      return new Timestamp(ArrowTimeUnit.NANOSECOND, null); // legacy Impala/Spark timestamps
    case PhysicalType.FLOAT:
      return new Float32();
    case PhysicalType.DOUBLE:
      return new Float64();
    case PhysicalType.BYTE_ARRAY:
      return byteArrayType(el, lt, ct);
    case PhysicalType.FIXED_LEN_BYTE_ARRAY:
      return fixedType(el, lt, ct);
    default:
      throw new SchemaError(`column "${el.name}" has unknown physical type ${el.type}`);
  }
}

function int32Type(el: SchemaElement, lt: LogicalType | undefined, ct: number | undefined): DataType {
  if (lt?.kind === 'integer') return intType(lt.bitWidth, lt.signed);
  if (lt?.kind === 'decimal') return decimalType(lt.precision, lt.scale);
  if (lt?.kind === 'date') return new DateDay();
  if (lt?.kind === 'time') return timeType(lt.unit);
  if (lt?.kind === 'null') return new Null();
  switch (ct) {
    case ConvertedType.INT_8: return new Int8();
    case ConvertedType.INT_16: return new Int16();
    case ConvertedType.UINT_8: return new Uint8();
    case ConvertedType.UINT_16: return new Uint16();
    case ConvertedType.UINT_32: return new Uint32();
    case ConvertedType.DECIMAL: return decimalType(el.precision ?? 0, el.scale ?? 0);
    case ConvertedType.DATE: return new DateDay();
    case ConvertedType.TIME_MILLIS: return timeType('millis');
  }
  return new Int32();
}

function int64Type(el: SchemaElement, lt: LogicalType | undefined, ct: number | undefined): DataType {
  if (lt?.kind === 'integer') return intType(lt.bitWidth, lt.signed);
  if (lt?.kind === 'decimal') return decimalType(lt.precision, lt.scale);
  if (lt?.kind === 'time') return timeType(lt.unit);
  if (lt?.kind === 'timestamp') return new Timestamp(arrowUnit(lt.unit), lt.utc ? 'UTC' : null);
  if (lt?.kind === 'null') return new Null();
  switch (ct) {
    case ConvertedType.UINT_64: return new Uint64();
    case ConvertedType.DECIMAL: return decimalType(el.precision ?? 0, el.scale ?? 0);
    case ConvertedType.TIME_MICROS: return timeType('micros');
    // Legacy converted timestamps are UTC-adjusted by definition.
    case ConvertedType.TIMESTAMP_MILLIS: return new Timestamp(ArrowTimeUnit.MILLISECOND, 'UTC');
    case ConvertedType.TIMESTAMP_MICROS: return new Timestamp(ArrowTimeUnit.MICROSECOND, 'UTC');
  }
  return new Int64();
}

function byteArrayType(el: SchemaElement, lt: LogicalType | undefined, ct: number | undefined): DataType {
  if (lt) {
    if (lt.kind === 'string' || lt.kind === 'enum' || lt.kind === 'json') return new Utf8();
    if (lt.kind === 'decimal') return decimalType(lt.precision, lt.scale);
    if (lt.kind === 'null') return new Null();
    if (lt.kind !== 'unknown') return new Binary(); // bson, geometry, geography …
  }
  if (ct === ConvertedType.UTF8 || ct === ConvertedType.ENUM || ct === ConvertedType.JSON) return new Utf8();
  if (ct === ConvertedType.DECIMAL) return decimalType(el.precision ?? 0, el.scale ?? 0);
  return new Binary();
}

function fixedType(el: SchemaElement, lt: LogicalType | undefined, ct: number | undefined): DataType {
  const width = el.typeLength;
  if (width === undefined || width <= 0) throw new SchemaError(`FIXED_LEN_BYTE_ARRAY column "${el.name}" has type_length ${width ?? '(none)'}`);
  if (lt?.kind === 'decimal') return decimalType(lt.precision, lt.scale);
  if (lt?.kind === 'float16') return new Float16();
  if (lt?.kind === 'null') return new Null();
  if (lt === undefined && ct === ConvertedType.DECIMAL) return decimalType(el.precision ?? 0, el.scale ?? 0);
  return new FixedSizeBinary(width); // uuid (16 bytes), interval (12 bytes) and plain fixed binary
}

function intType(bitWidth: 8 | 16 | 32 | 64, signed: boolean): DataType {
  switch (bitWidth) {
    case 8: return signed ? new Int8() : new Uint8();
    case 16: return signed ? new Int16() : new Uint16();
    case 32: return signed ? new Int32() : new Uint32();
    case 64: return signed ? new Int64() : new Uint64();
  }
}

function decimalType(precision: number, scale: number): DataType {
  if (!(precision > 0) || precision > 76 || scale < 0 || scale > precision) {
    throw new SchemaError(`decimal with precision ${precision} and scale ${scale}`);
  }
  return new Decimal(scale, precision, precision <= 38 ? 128 : 256);
}

function timeType(unit: TimeUnit): DataType {
  return unit === 'millis' ? new Time(ArrowTimeUnit.MILLISECOND, 32) : new Time(arrowUnit(unit), 64);
}

function arrowUnit(unit: TimeUnit): ArrowTimeUnit {
  return unit === 'millis' ? ArrowTimeUnit.MILLISECOND : unit === 'micros' ? ArrowTimeUnit.MICROSECOND : ArrowTimeUnit.NANOSECOND;
}

function checkRepetition(el: SchemaElement): void {
  const r = el.repetition;
  if (r !== Repetition.REQUIRED && r !== Repetition.OPTIONAL && r !== Repetition.REPEATED) {
    throw new SchemaError(`field "${el.name}" has ${r === undefined ? 'no' : `unknown`} repetition type${r === undefined ? '' : ` ${r}`}`);
  }
}

function fieldMetadata(el: SchemaElement): Map<string, string> | null {
  return el.fieldId === undefined ? null : new Map([['PARQUET:field_id', String(el.fieldId)]]);
}

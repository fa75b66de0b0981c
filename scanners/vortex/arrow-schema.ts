/**
 * Vortex dtype → Apache Arrow schema. Strings map to Arrow `Utf8`/`Binary` (Vortex itself exports the
 * view types, which apache-arrow JS and Milvus do not take); temporal extension types map to Arrow's
 * temporal types; other extension types map to their storage type with the extension id kept in the
 * field metadata (`vortex:extension:id`, `vortex:extension:metadata` as base64).
 */
import {
  Binary, Bool, DataType, DateDay, DateMillisecond, Decimal, Field, FixedSizeList, Float16, Float32, Float64,
  Int16, Int32, Int64, Int8, List, Null, Schema, Struct, TimeMicrosecond, TimeMillisecond, TimeNanosecond, TimeSecond,
  TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8, Utf8,
} from 'apache-arrow';
import { LakemapError, corruptFile } from '../../src/scanner.js';
import { topLevelFields, type PType, type VortexDType } from './dtype.js';

/** Name of list and fixed-size-list element fields, as arrow-rs `Field::new_list_field` names them. */
const LIST_ITEM = 'item';

// Vortex `TimeUnit` tags (vortex-array extension/datetime/unit.rs).
const NS = 0, US = 1, MS = 2, S = 3, DAYS = 4;

/** Maps the file's root dtype to an Arrow schema: a struct root's fields, or one field `value`. */
export function toArrowSchema(path: string, root: VortexDType): Schema {
  const fields = topLevelFields(root).map(({ name, dtype }) => toArrowField(path, name, dtype));
  return new Schema(fields, new Map([['vortex:root', root.kind === 'struct' ? 'struct' : root.kind]]));
}

/** Maps one named dtype to an Arrow field. */
export function toArrowField(path: string, name: string, dtype: VortexDType): Field {
  const { type, metadata } = toArrowType(path, name, dtype);
  return new Field(name, type, dtype.nullable, metadata);
}

function toArrowType(path: string, where: string, dtype: VortexDType): { type: DataType; metadata?: Map<string, string> } {
  switch (dtype.kind) {
    case 'null':
      return { type: new Null() };
    case 'bool':
      return { type: new Bool() };
    case 'primitive':
      return { type: primitive(dtype.ptype) };
    case 'decimal':
      return { type: new Decimal(dtype.scale, dtype.precision, dtype.precision <= 38 ? 128 : 256) };
    case 'utf8':
      return { type: new Utf8() };
    case 'binary':
      return { type: new Binary() };
    case 'struct':
      return { type: new Struct(dtype.names.map((n, i) => toArrowField(path, n, dtype.fields[i]!))) };
    case 'list':
      return { type: new List(toArrowField(path, LIST_ITEM, dtype.element)) };
    case 'fixed_size_list':
      return { type: new FixedSizeList(dtype.size, toArrowField(path, LIST_ITEM, dtype.element)) };
    case 'extension':
      return extension(path, where, dtype);
    case 'variant':
      // The storage Vortex itself exports a variant as (arrow.parquet.variant shape).
      return {
        type: new Struct([new Field('metadata', new Binary(), false), new Field('value', new Binary(), true)]),
        metadata: new Map([['vortex:dtype', 'variant']]),
      };
    case 'union':
      throw new LakemapError('UNSUPPORTED', `${path}: column ${where} has the Vortex union dtype, which has no Arrow mapping yet (Vortex cannot export it either)`, { path });
  }
}

function primitive(p: PType): DataType {
  switch (p) {
    case 'u8': return new Uint8();
    case 'u16': return new Uint16();
    case 'u32': return new Uint32();
    case 'u64': return new Uint64();
    case 'i8': return new Int8();
    case 'i16': return new Int16();
    case 'i32': return new Int32();
    case 'i64': return new Int64();
    case 'f16': return new Float16();
    case 'f32': return new Float32();
    case 'f64': return new Float64();
  }
}

type ExtensionDType = Extract<VortexDType, { kind: 'extension' }>;

function extension(path: string, where: string, dtype: ExtensionDType): { type: DataType; metadata?: Map<string, string> } {
  const m = dtype.metadata;
  const bad = (): LakemapError => corruptFile(path, `column ${where}: ${dtype.id} metadata [${[...m].join(', ')}] is malformed`);
  switch (dtype.id) {
    case 'vortex.timestamp': {
      if (m.length < 3) throw bad();
      const tzLength = m[1]! | (m[2]! << 8);
      if (m.length < 3 + tzLength) throw bad();
      let tz: string | null = null;
      try {
        if (tzLength > 0) tz = new TextDecoder('utf-8', { fatal: true }).decode(m.subarray(3, 3 + tzLength));
      } catch {
        throw bad();
      }
      switch (m[0]) {
        case NS: return { type: new TimestampNanosecond(tz) };
        case US: return { type: new TimestampMicrosecond(tz) };
        case MS: return { type: new TimestampMillisecond(tz) };
        case S: return { type: new TimestampSecond(tz) };
        default: throw bad();
      }
    }
    case 'vortex.date':
      if (m[0] === DAYS) return { type: new DateDay() };
      if (m[0] === MS) return { type: new DateMillisecond() };
      throw bad();
    case 'vortex.time':
      switch (m[0]) {
        case S: return { type: new TimeSecond() };
        case MS: return { type: new TimeMillisecond() };
        case US: return { type: new TimeMicrosecond() };
        case NS: return { type: new TimeNanosecond() };
        default: throw bad();
      }
    default: {
      const storage = toArrowType(path, where, dtype.storage);
      const metadata = new Map(storage.metadata ?? []);
      metadata.set('vortex:extension:id', dtype.id);
      if (m.length > 0) metadata.set('vortex:extension:metadata', Buffer.from(m).toString('base64'));
      return { type: storage.type, metadata };
    }
  }
}

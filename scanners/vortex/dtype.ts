/**
 * The logical type of a Vortex file (`dtype.fbs`, root table `DType` with a union `Type`), decoded into
 * a plain tree. The root need not be a struct.
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';
import { rootTable, type FlatTable } from './flatbuffer-reader.js';

/** Primitive widths of `enum PType`, in enum order. */
export const PTYPES = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f16', 'f32', 'f64'] as const;
/** A primitive type name. */
export type PType = (typeof PTYPES)[number];

/** A decoded Vortex dtype. */
export type VortexDType =
  | { kind: 'null'; nullable: true }
  | { kind: 'bool'; nullable: boolean }
  | { kind: 'primitive'; ptype: PType; nullable: boolean }
  | { kind: 'decimal'; precision: number; scale: number; nullable: boolean }
  | { kind: 'utf8'; nullable: boolean }
  | { kind: 'binary'; nullable: boolean }
  | { kind: 'struct'; names: string[]; fields: VortexDType[]; nullable: boolean }
  | { kind: 'list'; element: VortexDType; nullable: boolean }
  | { kind: 'fixed_size_list'; element: VortexDType; size: number; nullable: boolean }
  | { kind: 'extension'; id: string; storage: VortexDType; metadata: Uint8Array; nullable: boolean }
  | { kind: 'variant'; nullable: boolean }
  | { kind: 'union'; nullable: boolean };

// `union Type` tags.
const T_NULL = 1, T_BOOL = 2, T_PRIMITIVE = 3, T_DECIMAL = 4, T_UTF8 = 5, T_BINARY = 6, T_STRUCT = 7;
const T_LIST = 8, T_EXTENSION = 9, T_FIXED_SIZE_LIST = 10, T_VARIANT = 11, T_UNION = 12;
/** Decimal256 holds at most 76 digits; Vortex refuses larger precisions. */
const MAX_DECIMAL_PRECISION = 76;

/** Decodes a dtype segment. */
export function readDType(path: string, bytes: Uint8Array): VortexDType {
  return decode(path, rootTable(bytes, 'dtype segment'), 'root');
}

function decode(path: string, fb: FlatTable, where: string): VortexDType {
  const { type, value: t } = fb.union(0);
  if (type === 0 || !t) throw corruptFile(path, `dtype of ${where} has no type`);
  const nullable = (slot: number): boolean => t.bool(slot);
  switch (type) {
    case T_NULL:
      return { kind: 'null', nullable: true };
    case T_BOOL:
      return { kind: 'bool', nullable: nullable(0) };
    case T_PRIMITIVE: {
      const code = t.u8(0);
      const ptype = PTYPES[code];
      if (ptype === undefined) throw corruptFile(path, `dtype of ${where} has an unknown primitive type ${code}`);
      return { kind: 'primitive', ptype, nullable: nullable(1) };
    }
    case T_DECIMAL: {
      const precision = t.u8(0);
      const scale = t.i8(1);
      if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale > precision) {
        throw corruptFile(path, `dtype of ${where} is a decimal with invalid precision ${precision} / scale ${scale}`);
      }
      return { kind: 'decimal', precision, scale, nullable: nullable(2) };
    }
    case T_UTF8:
      return { kind: 'utf8', nullable: nullable(0) };
    case T_BINARY:
      return { kind: 'binary', nullable: nullable(0) };
    case T_STRUCT: {
      const names = t.stringVector(0);
      const children = t.tableVector(1);
      if (names.length !== children.length) {
        throw corruptFile(path, `struct dtype of ${where} has ${names.length} names but ${children.length} field types`);
      }
      const fields = children.map((c, i) => decode(path, c, `${where}.${names[i]}`));
      return { kind: 'struct', names, fields, nullable: nullable(2) };
    }
    case T_LIST:
    case T_FIXED_SIZE_LIST: {
      const el = t.table(0);
      if (!el) throw corruptFile(path, `list dtype of ${where} has no element type`);
      const element = decode(path, el, `${where}[]`);
      if (type === T_LIST) return { kind: 'list', element, nullable: nullable(1) };
      return { kind: 'fixed_size_list', element, size: t.u32(1), nullable: nullable(2) };
    }
    case T_EXTENSION: {
      const id = t.string(0);
      const st = t.table(1);
      if (id === undefined || !st) throw corruptFile(path, `extension dtype of ${where} lacks an id or a storage type`);
      const storage = decode(path, st, `${where}<${id}>`);
      return { kind: 'extension', id, storage, metadata: t.bytesVector(2) ?? new Uint8Array(0), nullable: storage.nullable };
    }
    case T_VARIANT:
      return { kind: 'variant', nullable: nullable(0) };
    case T_UNION:
      return { kind: 'union', nullable: nullable(0) };
    default:
      throw new LakemapError('UNSUPPORTED', `${path}: dtype of ${where} has type tag ${type}, unknown to this reader (written by a newer Vortex?)`, { path });
  }
}

/** The top-level fields: a struct root's fields, or the single value of a non-struct root. */
export function topLevelFields(root: VortexDType): { name: string; dtype: VortexDType }[] {
  if (root.kind === 'struct') return root.names.map((name, i) => ({ name, dtype: root.fields[i]! }));
  return [{ name: NON_STRUCT_ROOT_FIELD, dtype: root }];
}

/** Column name given to the one column of a file whose root dtype is not a struct. */
export const NON_STRUCT_ROOT_FIELD = 'value';

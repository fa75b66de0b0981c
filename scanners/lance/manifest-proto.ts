/**
 * Decodes the `lance.table.Manifest` protobuf message into {@link LanceManifest}, walking the wire
 * format with the contract's bounded {@link ProtoReader}. Unknown fields are skipped, so manifests of
 * newer writers decode as long as the fields read here keep their meaning.
 *
 * Errors are thrown as plain `Error`/`RangeError`; the caller wraps them with the file name.
 *
 * @module
 */
import { ProtoReader } from '../../src/scanner.js';
import type {
  LanceDataFile,
  LanceDeletionFile,
  LanceField,
  LanceFragment,
  LanceManifest,
  LanceWriterVersion,
} from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes a manifest message occupying all of `bytes`. */
export function decodeManifest(bytes: Uint8Array): LanceManifest {
  const r = new ProtoReader(bytes);
  const m: LanceManifest = {
    version: 0,
    fields: [],
    schemaMetadata: {},
    fragments: [],
    writerVersion: null,
    timestampMs: null,
    readerFeatureFlags: 0,
    dataFormat: null,
    tag: '',
    branch: null,
    transactionFile: '',
    basePathCount: 0,
  };
  for (let f = r.next(); f; f = r.next()) {
    switch (f.no) {
      case 1:
        expectWire(f.wireType, 2, 'Manifest.fields');
        m.fields.push(decodeField(r.message()));
        break;
      case 2:
        expectWire(f.wireType, 2, 'Manifest.fragments');
        m.fragments.push(decodeFragment(r.message()));
        break;
      case 3:
        m.version = safeU64(r, f.wireType, 'Manifest.version');
        break;
      case 5: {
        expectWire(f.wireType, 2, 'Manifest.schema_metadata');
        const [k, v] = decodeMapEntry(r.message());
        m.schemaMetadata[k] = v;
        break;
      }
      case 7:
        expectWire(f.wireType, 2, 'Manifest.timestamp');
        m.timestampMs = decodeTimestamp(r.message());
        break;
      case 8:
        expectWire(f.wireType, 2, 'Manifest.tag');
        m.tag = r.string();
        break;
      case 9:
        m.readerFeatureFlags = safeU64(r, f.wireType, 'Manifest.reader_feature_flags');
        break;
      case 12:
        expectWire(f.wireType, 2, 'Manifest.transaction_file');
        m.transactionFile = r.string();
        break;
      case 13:
        expectWire(f.wireType, 2, 'Manifest.writer_version');
        m.writerVersion = decodeWriterVersion(r.message());
        break;
      case 15:
        expectWire(f.wireType, 2, 'Manifest.data_format');
        m.dataFormat = decodeDataFormat(r.message());
        break;
      case 18:
        expectWire(f.wireType, 2, 'Manifest.base_paths');
        r.skip(f.wireType);
        m.basePathCount++;
        break;
      case 20:
        expectWire(f.wireType, 2, 'Manifest.branch');
        m.branch = r.string();
        break;
      default:
        r.skip(f.wireType);
    }
  }
  return m;
}

function decodeField(r: ProtoReader): LanceField {
  const field: LanceField = { name: '', id: 0, parentId: 0, logicalType: '', nullable: false, metadata: {}, extensionName: '' };
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 2 && f.wireType === 2) field.name = r.string();
    else if (f.no === 3 && f.wireType === 0) field.id = int32(r);
    else if (f.no === 4 && f.wireType === 0) field.parentId = int32(r);
    else if (f.no === 5 && f.wireType === 2) field.logicalType = r.string();
    else if (f.no === 6 && f.wireType === 0) field.nullable = r.bool();
    else if (f.no === 9 && f.wireType === 2) field.extensionName = r.string();
    else if (f.no === 10 && f.wireType === 2) {
      const [k, v] = decodeMapEntry(r.message());
      field.metadata[k] = v;
    } else r.skip(f.wireType);
  }
  return field;
}

function decodeFragment(r: ProtoReader): LanceFragment {
  const frag: LanceFragment = { id: '0', files: [], deletionFile: null, physicalRows: 0 };
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 0) frag.id = r.varintBig().toString();
    else if (f.no === 2 && f.wireType === 2) frag.files.push(decodeDataFile(r.message()));
    else if (f.no === 3 && f.wireType === 2) frag.deletionFile = decodeDeletionFile(r.message());
    else if (f.no === 4) frag.physicalRows = safeU64(r, f.wireType, 'DataFragment.physical_rows');
    else r.skip(f.wireType);
  }
  return frag;
}

function decodeDataFile(r: ProtoReader): LanceDataFile {
  const file: LanceDataFile = { path: '', fields: [], fileMajorVersion: 0, fileMinorVersion: 0, fileSizeBytes: 0 };
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) file.path = r.string();
    else if (f.no === 2 && (f.wireType === 0 || f.wireType === 2)) r.repeated(f.wireType, int32, file.fields);
    else if (f.no === 4 && f.wireType === 0) file.fileMajorVersion = safeU64(r, 0, 'DataFile.file_major_version');
    else if (f.no === 5 && f.wireType === 0) file.fileMinorVersion = safeU64(r, 0, 'DataFile.file_minor_version');
    else if (f.no === 6) file.fileSizeBytes = safeU64(r, f.wireType, 'DataFile.file_size_bytes');
    else if (f.no === 7 && f.wireType === 0) file.baseId = safeU64(r, 0, 'DataFile.base_id');
    else r.skip(f.wireType);
  }
  return file;
}

function decodeDeletionFile(r: ProtoReader): LanceDeletionFile {
  const del: LanceDeletionFile = { fileType: 'arrow', readVersion: '0', id: '0', numDeletedRows: 0 };
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 0) {
      const t = r.varint();
      if (t === 0) del.fileType = 'arrow';
      else if (t === 1) del.fileType = 'bitmap';
      else throw new Error(`unknown deletion file type ${t}`);
    } else if (f.no === 2 && f.wireType === 0) del.readVersion = r.varintBig().toString();
    else if (f.no === 3 && f.wireType === 0) del.id = r.varintBig().toString();
    else if (f.no === 4) del.numDeletedRows = safeU64(r, f.wireType, 'DeletionFile.num_deleted_rows');
    else if (f.no === 7 && f.wireType === 0) del.baseId = safeU64(r, 0, 'DeletionFile.base_id');
    else r.skip(f.wireType);
  }
  return del;
}

function decodeWriterVersion(r: ProtoReader): LanceWriterVersion {
  const wv: LanceWriterVersion = { library: '', version: '' };
  let prerelease = '';
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) wv.library = r.string();
    else if (f.no === 2 && f.wireType === 2) wv.version = r.string();
    else if (f.no === 3 && f.wireType === 2) prerelease = r.string();
    else r.skip(f.wireType);
  }
  if (prerelease !== '') wv.version = `${wv.version}-${prerelease}`;
  return wv;
}

function decodeDataFormat(r: ProtoReader): { fileFormat: string; version: string } {
  const df = { fileFormat: '', version: '' };
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) df.fileFormat = r.string();
    else if (f.no === 2 && f.wireType === 2) df.version = r.string();
    else r.skip(f.wireType);
  }
  return df;
}

/** `google.protobuf.Timestamp` → epoch milliseconds. */
function decodeTimestamp(r: ProtoReader): number {
  let seconds = 0n;
  let nanos = 0;
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 0) seconds = BigInt.asIntN(64, r.varintBig());
    else if (f.no === 2 && f.wireType === 0) nanos = int32(r);
    else r.skip(f.wireType);
  }
  return Number(seconds) * 1000 + Math.floor(nanos / 1e6);
}

/** A `map<string, string|bytes>` entry; values are decoded as UTF-8. */
function decodeMapEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  for (let f = r.next(); f; f = r.next()) {
    if (f.no === 1 && f.wireType === 2) key = r.string();
    else if (f.no === 2 && f.wireType === 2) value = utf8.decode(r.bytesField());
    else r.skip(f.wireType);
  }
  return [key, value];
}

/** An `int32` varint (negative values are sign-extended to 10 bytes on the wire). */
function int32(r: ProtoReader): number {
  return Number(BigInt.asIntN(32, r.varintBig()));
}

/** A `uint64` varint that must fit a JS number exactly: counts and sizes beyond 2^53 are corrupt. */
function safeU64(r: ProtoReader, wireType: number, what: string): number {
  expectWire(wireType, 0, what);
  const v = r.varintBig();
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} is ${v}, beyond any real table`);
  return Number(v);
}

function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new RangeError(`${what} has wire type ${actual}, expected ${expected}`);
}

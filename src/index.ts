/**
 * lakemap: map external lake data (parquet, vortex, lance, iceberg) into versioned collection
 * manifests by reading metadata only.
 *
 * @example
 * ```ts
 * import { RefreshEngine } from 'lakemap';
 * const engine = new RefreshEngine({ root: '.lakemap' });
 * ```
 * @packageDocumentation
 */
export { RefreshEngine } from './engine/engine.js';
export { JobEventTarget } from './engine/events.js';
export type { RefreshEngineEventType, RefreshStarted } from './engine/engine.js';
export { RefreshJobEvent } from './engine/jobs.js';
export { LakemapError, corruptFile } from './errors.js';
export { MAX_RECORDED_COLUMNS } from './scanner.js';
export type { LakemapErrorCode, LakemapErrorOptions } from './errors.js';
export { manifestArrowSchema } from './manifest/schema.js';
export { diffManifests } from './manifest/diff.js';
export type { ManifestDiff } from './manifest/diff.js';
export type { ManifestSummary } from './manifest/summary.js';
export type { ManifestStream } from './manifest/stream.js';
export type { FileWithSegments } from './manifest/chunks.js';
export { LocalStorage } from './storage/local.js';
export type { FileTail } from './storage/local.js';
export { openStorage } from './storage/open.js';
export type { OpenStorageOptions, StorageFactory, StorageFactoryContext } from './storage/open.js';
export type { StorageOptions } from './storage/options.js';
export type { RequestPolicyOptions } from './storage/request-policy.js';
export { ProtoReader } from './wire/protobuf.js';
export type { ProtoField } from './wire/protobuf.js';
export { builtinScanners, icebergScanner, lanceScanner, parquetScanner, vortexScanner } from '../scanners/index.js';
export type * from './types.js';
export type { ReadCollectionRequest, ReadSegmentRequest } from './read/types.js';
export type {
  ExternalSpec,
  FileProbe,
  FileScanner,
  FileStat,
  JsonObject,
  JsonValue,
  ListOptions,
  ProbeFile,
  ScanContext,
  ScannedEntry,
  Scanner,
  SnapshotContext,
  SourceStorage,
  TableEntry,
  TableScanner,
  TableSnapshot,
  UnchangedContext,
  UnitInfo,
} from './scanner.js';
export { WatchEvent, WatchHandle } from './watch/index.js';
export type { ChangeSource, WatchChange, WatchClock, WatchError, WatchEventType, WatchMechanism, WatchOptions, WatchStatus } from './watch/index.js';

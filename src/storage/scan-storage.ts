import type { FileStat, SourceStorage } from '../scanner.js';
import type { FileTail } from './local.js';

/**
 * The storage a scan takes: the public {@link SourceStorage} plus optional fast paths. Local disk
 * offers the synchronous ones (a warm page cache answers faster than a thread-pool round trip);
 * remote storages (S3, Azure) offer at most `readTail`, and the scan then pipelines its reads.
 */
export interface ScanStorage extends SourceStorage {
  /** Synchronous tail read: the last `min(size, want)` bytes with size and mtime of the same open file. */
  readTailSync?(path: string, want: number, scratch?: Uint8Array): FileTail;
  /** Asynchronous tail read in one round trip (e.g. a suffix range request); else the scan does `stat` + `read`. */
  readTail?(path: string, want: number, signal?: AbortSignal): Promise<FileTail>;
  /** Synchronous `stat`, when the storage can answer without waiting. */
  statSync?(path: string): FileStat | undefined;
  /**
   * Synchronous listing with a name filter; names that cannot be mapped to a path (not valid UTF-8)
   * are reported through `onSkip` instead of failing the listing.
   */
  listSync?(dir: string, filter?: (name: string, relDir: string) => boolean, withStats?: boolean, onSkip?: (message: string) => void): FileStat[];
  /** `listSync` in steps: yields the count of files found so far now and then, returns the listing. */
  listSteps?(dir: string, filter?: (name: string, relDir: string) => boolean, withStats?: boolean, onSkip?: (message: string) => void): Generator<number, FileStat[], void>;
  /**
   * Size and mtime of a path `listSync`/`listSteps` returned without stats, as the listing with stats
   * would have taken them; lets a scan stat only the files it selected, and share the stats with a worker.
   */
  statListedSync?(path: string): { size: number; mtimeMs: number };
  /** Asynchronous `listSync` (many calls in flight), for file systems where each call is a round trip. */
  listFiltered?(dir: string, filter?: (name: string, relDir: string) => boolean, withStats?: boolean, onSkip?: (message: string) => void): Promise<FileStat[]>;
}

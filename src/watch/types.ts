/**
 * Public types of watching: options, status and the two seams tests (and embedders) can replace,
 * the clock and the change source.
 * @module
 */
import type { LakemapErrorCode } from '../errors.js';
import type { RefreshJobInfo } from '../types.js';

/** How a watch learns that its source may have changed. */
export type WatchMechanism =
  /** Native file-system events through `@parcel/watcher` (one watch per directory). */
  | 'parcel'
  /** Polling a local or mounted directory: directories first, files under changed ones. */
  | 'poll'
  /** Polling an object-store listing (size, ETag, last-modified) through the source's storage. */
  | 'poll-listing'
  /** A {@link ChangeSource} given in {@link WatchOptions.changeSource}. */
  | 'custom';

/** Timers and time, injectable so tests run without real waiting. */
export interface WatchClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a handle for {@link WatchClock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending {@link WatchClock.setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/**
 * Something that tells a watch which paths may have changed. Events are hints only: the refresh
 * decides what changed, so merged or lost events are harmless.
 */
export interface ChangeSource {
  /** The mechanism reported in {@link WatchStatus.mechanism}. */
  readonly mechanism: WatchMechanism;
  /** Why this mechanism was chosen (shown in {@link WatchStatus.reason}). */
  readonly reason: string;
  /**
   * Starts delivering hints: `changed` with paths relative to the source (`/`-separated; may be
   * empty when the source only knows "something changed"), `failed` for errors that do not stop it.
   * Resolves once it is watching.
   */
  start(changed: (paths: string[]) => void, failed: (error: Error) => void): Promise<void>;
  /** Stops; never rejects. */
  close(): Promise<void>;
}

/** Options of {@link RefreshEngine.watch}. */
export interface WatchOptions {
  /** Quiet time after the last change before a refresh starts. Default 1,000 ms. */
  debounceMs?: number;
  /** Longest time a change waits for its refresh while changes keep coming. Default 10 × `debounceMs`, at least 10,000 ms. */
  maxWaitMs?: number;
  /**
   * Shortest interval between two polls (poll mechanisms). The interval grows to at least 20 × the
   * last poll's duration so a large tree is never polled back to back. Default 2,000 ms.
   */
  pollIntervalMs?: number;
  /** Every how many polls of a local directory every file is stat'ed too (catches rewrites in place). Default 10. */
  fullPassEvery?: number;
  /** With native events, a refresh this often anyway, for events the OS lost. Default 600,000 ms; 0 turns it off. */
  safetyRefreshMs?: number;
  /** Refresh once when the watch starts (changes made while nobody watched). Default true. */
  initialRefresh?: boolean;
  /** Keep the Node process alive while the watch is open, as `fs.watch` does. Default true. */
  persistent?: boolean;
  /** Force a mechanism instead of choosing one (`parcel` still falls back to polling when it cannot start). */
  mechanism?: 'parcel' | 'poll';
  /** A change source of your own instead of the built-in ones (reported as `custom`). */
  changeSource?: ChangeSource;
  /** Clock for timers (tests). Default the real one. */
  clock?: WatchClock;
}

/** An error a watch met and survived. */
export interface WatchError {
  /** Epoch ms. */
  at: number;
  /** Stable code (`IO_ERROR` for a failing change source). */
  code: LakemapErrorCode;
  /** What happened. */
  message: string;
  /** Id of the failed refresh job, when a refresh failed. */
  jobId?: string;
}

/** A change hint a watch received. */
export interface WatchChange {
  /** Epoch ms. */
  at: number;
  /** Up to 10 of the changed paths (relative to the source; empty when the source only knew "something changed"). */
  paths: string[];
  /** How many paths the hint carried. */
  count: number;
}

/** A snapshot of a watch, from {@link WatchHandle.status}. */
export interface WatchStatus {
  /** Collection name. */
  collectionName: string;
  /** Database name. */
  dbName: string;
  /** The directory or object-store root watched; follows the collection when a refresh moves its source. */
  watching: string;
  /** Mechanism in use. */
  mechanism: WatchMechanism;
  /** Why that mechanism (e.g. the file-system type of a mount, or why native events failed). */
  reason: string;
  /** `starting`, `watching` or `closed`. */
  state: 'starting' | 'watching' | 'closed';
  /** True while a refresh started by this watch runs. */
  refreshing: boolean;
  /** True when a change is waiting for its refresh. */
  pending: boolean;
  /** Last change hint. */
  lastEvent?: WatchChange;
  /** Last refresh job this watch ran, as it ended. */
  lastJob?: RefreshJobInfo;
  /** Refreshes this watch started. */
  refreshes: number;
  /** Times a refresh was put off because another engine or process was refreshing the collection (not an error). */
  deferred: number;
  /** Refreshes in a row that failed (0 after a success); retries back off with it. */
  consecutiveFailures: number;
  /** Epoch ms of the next retry after a failure, when one is scheduled. */
  retryAt?: number;
  /** Current poll interval (poll mechanisms). */
  pollIntervalMs?: number;
  /** Duration of the last poll (poll mechanisms). */
  lastPollMs?: number;
  /** The last 20 errors survived, oldest first. */
  errors: WatchError[];
}

/** Events of a {@link WatchHandle}: `refreshstart` and `refreshend`, both carrying a {@link WatchEvent}. */
export type WatchEventType = 'refreshstart' | 'refreshend';

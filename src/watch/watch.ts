// A watch: keeps one collection current by refreshing it when its source changes.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { LakemapError } from '../errors.js';
import { LocalStorage } from '../storage/local.js';
import type { ExternalSpec, Scanner, SourceStorage } from '../scanner.js';
import type { CollectionInfo, CollectionRef, RefreshJobInfo, RefreshRequest } from '../types.js';
import { startChangeSource } from './choose.js';
import { realClock } from './clock.js';
import { changeFilter } from './filter.js';
import { RefreshScheduler, type RunOutcome } from './scheduler.js';
import { PendingPaths } from './pending-paths.js';
import type { ChangeSource, WatchClock, WatchError, WatchEventType, WatchMechanism, WatchOptions, WatchStatus } from './types.js';

/** What a watch needs of the engine (the engine passes itself plus two private lookups). */
export interface WatchHost {
  /** The engine: watches are registered under it so that its close can close them (`closeWatches`). */
  readonly owner: object;
  /** The engine's metadata root, never reported as a change. */
  readonly root: string;
  describeCollection(ref: CollectionRef): Promise<CollectionInfo>;
  refreshExternalCollection(req: RefreshRequest): Promise<{ jobId: string }>;
  waitForRefresh(jobId: string): Promise<RefreshJobInfo>;
  /** The scanner registered for a format. */
  scannerFor(format: string): Scanner | undefined;
  /** Opens an external source string as storage. */
  openStorage(externalSource: string, externalSpec: ExternalSpec): Promise<SourceStorage>;
  /** Calls `listener` with each refresh job of the engine as it ends; returns a function that stops it. */
  onRefreshEnd?(listener: (job: RefreshJobInfo) => void): () => void;
}

/**
 * Event of a {@link WatchHandle}: a refresh it started began (`refreshstart`) or ended (`refreshend`).
 * `refreshend` comes once {@link WatchHandle.status} agrees with it (not refreshing, failures counted).
 */
export class WatchEvent extends Event {
  /** Id of the refresh job. */
  readonly jobId: string;
  /** The job's info: as started, or as it ended. */
  readonly job: RefreshJobInfo | undefined;

  /** `job` is present on `refreshend`. */
  constructor(type: WatchEventType, jobId: string, job?: RefreshJobInfo) {
    super(type);
    this.jobId = jobId;
    this.job = job;
  }
}

const DEFAULTS = { debounceMs: 1000, pollIntervalMs: 2000, fullPassEvery: 10, safetyRefreshMs: 600_000 };
const MAX_ERRORS = 20;
const watchesOf = new WeakMap<object, Set<WatchHandle>>();

/**
 * A running watch of one collection, from {@link RefreshEngine.watch}. Change events only hint that
 * the collection may be stale; the refresh decides what changed. A failed refresh keeps the previous
 * manifest version and is retried with backoff; the watch itself only stops on {@link WatchHandle.close}.
 */
export class WatchHandle extends EventTarget {
  /** Resolves once changes are being watched (and the first refresh is scheduled); rejects when the watch cannot start. */
  readonly ready: Promise<void>;
  private readonly ref: { collectionName: string; dbName: string };
  private readonly clock: WatchClock;
  private readonly scheduler: RefreshScheduler;
  private source: ChangeSource | undefined;
  private mechanism: WatchMechanism = 'custom';
  private reason = '';
  private watching = '';
  private state: WatchStatus['state'] = 'starting';
  private lastEvent: WatchStatus['lastEvent'];
  private lastJob: RefreshJobInfo | undefined;
  /** The job the running refresh saw end, announced once the scheduler has counted it. */
  private ended: RefreshJobInfo | undefined;
  private refreshes = 0;
  private deferred = 0;
  private readonly errors: WatchError[] = [];
  private safetyTimer: unknown;
  private inFlight: AbortController | undefined;
  private closing: Promise<void> | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Source and spec the current change source watches (see {@link WatchHandle.follow}). */
  private followed = '';
  private pendingRoot = '';
  /** The source being opened is a file format's (its refreshes take changed paths). */
  private pendingLists = false;
  private following: Promise<void> = Promise.resolve();
  private stopFollowing: (() => void) | undefined;
  /** Paths native events reported since the last completed refresh: the next refresh's `changedPaths`. */
  private readonly changedPaths = new PendingPaths();
  /** True when the change source reports every path it sees change (native events). */
  private hinting = false;

  /**
   * Use {@link RefreshEngine.watch}.
   * @internal
   */
  constructor(
    private readonly host: WatchHost,
    ref: CollectionRef,
    private readonly options: WatchOptions = {},
  ) {
    super();
    this.ref = { collectionName: ref.collectionName, dbName: ref.dbName ?? 'default' };
    this.clock = options.clock ?? realClock;
    const debounceMs = nonNegative(options.debounceMs ?? DEFAULTS.debounceMs, 'debounceMs');
    const maxWaitMs = nonNegative(options.maxWaitMs ?? Math.max(10 * debounceMs, 10_000), 'maxWaitMs');
    nonNegative(options.pollIntervalMs ?? DEFAULTS.pollIntervalMs, 'pollIntervalMs');
    this.scheduler = new RefreshScheduler({
      clock: this.clock,
      debounceMs,
      maxWaitMs: Math.max(maxWaitMs, debounceMs),
      backoffMs: Math.max(1000, debounceMs),
      maxBackoffMs: 300_000,
      busyRetryMs: Math.max(1000, debounceMs),
      run: () => this.refresh(),
      settled: () => this.announceEnd(),
    });
    let set = watchesOf.get(host.owner);
    if (!set) watchesOf.set(host.owner, (set = new Set()));
    set.add(this);
    // The watch's own timers are unref'd; one interval holds the process while the watch is open.
    if (options.persistent ?? true) this.keepAlive = setInterval(() => {}, 1 << 30);
    this.ready = this.start();
    this.ready.catch(() => undefined); // reported to whoever awaits it; never an unhandled rejection
  }

  /** What the watch is doing: mechanism, last change, last refresh job, errors survived. */
  status(): WatchStatus {
    const timing = (this.source as { timing?: { pollIntervalMs: number; lastPollMs: number } } | undefined)?.timing;
    const s: WatchStatus = {
      ...this.ref,
      watching: this.watching,
      mechanism: this.mechanism,
      reason: this.reason,
      state: this.state,
      refreshing: this.scheduler.busy,
      pending: this.scheduler.pending,
      refreshes: this.refreshes,
      deferred: this.deferred,
      consecutiveFailures: this.scheduler.failures,
      errors: this.errors.map((e) => ({ ...e })),
    };
    if (this.lastEvent) s.lastEvent = { ...this.lastEvent, paths: [...this.lastEvent.paths] };
    if (this.lastJob) s.lastJob = structuredClone(this.lastJob);
    if (this.scheduler.notBefore > this.clock.now()) s.retryAt = this.scheduler.notBefore;
    if (timing) Object.assign(s, timing);
    return s;
  }

  /** Typed `addEventListener` for `refreshstart` and `refreshend`; returns a function that removes the listener. */
  on(type: WatchEventType, listener: (event: WatchEvent) => void): () => void {
    const l = listener as unknown as (event: Event) => void;
    this.addEventListener(type, l);
    return () => this.removeEventListener(type, l);
  }

  /** Stops watching; a refresh this watch started is cancelled (the previous version stays current). Never rejects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closed';
      clearInterval(this.keepAlive);
      if (this.safetyTimer !== undefined) this.clock.clearTimeout(this.safetyTimer);
      this.inFlight?.abort();
      this.stopFollowing?.();
      await Promise.all([this.source?.close(), this.scheduler.close(), this.ready.catch(() => undefined), this.following]);
      await this.source?.close(); // a source that finished starting during close
      watchesOf.get(this.host.owner)?.delete(this);
    })();
    return this.closing;
  }

  private async start(): Promise<void> {
    try {
      const info = await this.host.describeCollection(this.ref);
      const source = await this.openChangeSource(info);
      this.use(source, info);
      if (this.state === 'closed') {
        await source.close();
        return;
      }
      this.state = 'watching';
      if (source.mechanism === 'parcel' || source.mechanism === 'custom') this.armSafety();
      if (this.options.initialRefresh ?? true) this.scheduler.hint(true);
      this.stopFollowing = this.host.onRefreshEnd?.((job) => {
        if (job.state === 'RefreshCompleted' && job.collectionName === this.ref.collectionName && job.dbName === this.ref.dbName) void this.follow();
      });
    } catch (e) {
      this.state = 'closed';
      clearInterval(this.keepAlive);
      watchesOf.get(this.host.owner)?.delete(this);
      throw e;
    }
  }

  /** Opens the source a collection's definition names and starts watching it (not yet in use). */
  private async openChangeSource(info: CollectionInfo): Promise<ChangeSource> {
    const storage = await this.host.openStorage(info.externalSource, info.externalSpec);
    const scanner = this.host.scannerFor(info.externalSpec.format);
    const localRoot = storage instanceof LocalStorage ? storage.root : undefined;
    this.pendingRoot = storage.root;
    const filter = changeFilter(scanner, info.externalSpec, localRoot ? ownRootInside(this.host.root, localRoot) : undefined);
    this.pendingLists = filter.lists !== undefined;
    // Hints from a source no longer in use are dropped.
    let source: ChangeSource | undefined = this.options.changeSource;
    const changed = (paths: string[]): void => {
      if (this.source === source) this.hinted(paths);
    };
    const noted = (paths: string[]): void => {
      if (this.source === source) this.changedPaths.add(paths);
    };
    const failed = (e: Error): void => {
      if (this.source === source) this.error(LakemapError.is(e) ? e.code : 'IO_ERROR', e.message);
    };
    if (source) {
      await source.start(changed, failed);
      return source;
    }
    const table = scanner?.kind === 'table' ? info.externalSpec.format : '';
    source = await startChangeSource(
      {
        storage,
        ...(localRoot ? { localRoot } : {}),
        filter,
        listPrefix: table === 'lance-table' ? '_versions' : table === 'iceberg-table' ? 'metadata' : '',
        clock: this.clock,
        pollIntervalMs: this.options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
        fullPassEvery: Math.max(1, this.options.fullPassEvery ?? DEFAULTS.fullPassEvery),
        ...(this.options.mechanism ? { mechanism: this.options.mechanism } : {}),
        noted,
      },
      changed,
      failed,
    );
    return source;
  }

  private use(source: ChangeSource, info: CollectionInfo): void {
    this.source = source;
    this.followed = definitionKey(info);
    this.watching = this.pendingRoot;
    this.mechanism = source.mechanism;
    this.reason = source.reason;
    // Only native events and an object store's listing polls name every path they see change, and only
    // file formats list paths. Polling a directory cannot see a rewrite in place between its full passes
    // (nor through symlinked directories, which the listing follows) and a custom source promises no
    // complete list: their refreshes list the whole source.
    this.hinting = (source.mechanism === 'parcel' || source.mechanism === 'poll-listing') && this.pendingLists;
    this.changedPaths.needFull(); // a new source: the next refresh is full (changes before it started)
  }

  /**
   * Follows the collection's current source: a completed refresh may have moved it (`externalSource` or
   * `externalSpec` given to the refresh). Re-describes the collection and, when its source or spec moved,
   * starts watching the new one and stops the old. Serialised; never throws (a failure is reported and
   * the old source stays watched until the next completed refresh).
   */
  private follow(): Promise<void> {
    this.following = this.following.then(async () => {
      if (this.state !== 'watching' || this.options.changeSource) return;
      try {
        const info = await this.host.describeCollection(this.ref);
        if (definitionKey(info) === this.followed || this.isClosed()) return;
        const next = await this.openChangeSource(info);
        if (this.isClosed()) {
          await next.close();
          return;
        }
        const old = this.source;
        this.use(next, info);
        await old?.close();
        // Changes made between that refresh's listing and the new source's first pass are caught by one more refresh.
        this.scheduler.hint();
      } catch (e) {
        this.error(LakemapError.is(e) ? e.code : 'IO_ERROR', `could not follow the collection's new source: ${(e as Error)?.message ?? String(e)}`);
      }
    });
    return this.following;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private hinted(paths: string[]): void {
    if (this.state === 'closed') return;
    if (paths.length === 0) this.changedPaths.needFull(); // the source only knows that something changed (events lost)
    this.lastEvent = { at: this.clock.now(), paths: paths.slice(0, 10), count: paths.length };
    this.scheduler.hint();
  }

  private armSafety(): void {
    const every = this.options.safetyRefreshMs ?? DEFAULTS.safetyRefreshMs;
    if (!(every > 0) || this.state === 'closed') return;
    this.safetyTimer = this.clock.setTimeout(() => {
      this.changedPaths.needFull(); // for events the OS lost: a full listing
      this.scheduler.hint();
      this.armSafety();
    }, every);
  }

  private error(code: WatchError['code'], message: string, jobId?: string): void {
    this.errors.push({ at: this.clock.now(), code, message, ...(jobId ? { jobId } : {}) });
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
  }

  /** One refresh, as the scheduler sees it. Never throws. */
  private async refresh(): Promise<RunOutcome> {
    if (this.state === 'closed') return 'cancelled';
    const ac = new AbortController();
    this.inFlight = ac;
    // The paths since the last completed refresh; put back unless this refresh completes.
    const taken = this.hinting ? this.changedPaths.take() : { paths: undefined };
    let jobId: string;
    try {
      ({ jobId } = await this.host.refreshExternalCollection({ ...this.ref, signal: ac.signal, ...(taken.paths ? { changedPaths: taken.paths } : {}) }));
    } catch (e) {
      this.inFlight = undefined;
      this.changedPaths.putBack(taken);
      if (LakemapError.is(e, 'REFRESH_IN_PROGRESS')) {
        this.deferred++;
        return 'busy';
      }
      if (LakemapError.is(e, 'ENGINE_CLOSED')) {
        void this.close(); // the engine is gone: nothing left to keep current
        return 'cancelled';
      }
      this.error(LakemapError.is(e) ? e.code : 'IO_ERROR', (e as Error)?.message ?? String(e));
      return 'failed';
    }
    this.refreshes++;
    this.dispatchEvent(new WatchEvent('refreshstart', jobId));
    const info = await this.host.waitForRefresh(jobId);
    this.inFlight = undefined;
    this.lastJob = info;
    this.ended = info; // `refreshend` waits until status() agrees with it (see announceEnd)
    if (info.state === 'RefreshCompleted') {
      await this.follow();
      return 'done';
    }
    this.changedPaths.putBack(taken);
    if (info.errorCode === 'CANCELLED' && this.isClosed()) return 'cancelled';
    // Another process held the collection's lock: its refresh will see our change or we retry.
    if (info.errorCode === 'REFRESH_IN_PROGRESS') {
      this.deferred++;
      return 'busy';
    }
    this.error(info.errorCode || 'IO_ERROR', info.reason, jobId);
    return 'failed';
  }

  /**
   * Dispatches `refreshend` for the refresh that just ended, after the scheduler counted its outcome:
   * a listener reading status() then sees it not refreshing, its failures counted, the source followed.
   */
  private announceEnd(): void {
    const job = this.ended;
    this.ended = undefined;
    if (job) this.dispatchEvent(new WatchEvent('refreshend', job.jobId, job));
  }
}

/** Closes every watch started on an engine (for the engine's own `close()`). */
export async function closeWatches(owner: object): Promise<void> {
  await Promise.all([...(watchesOf.get(owner) ?? [])].map((w) => w.close()));
}

/** What a change source depends on in a collection's definition. */
function definitionKey(info: CollectionInfo): string {
  return JSON.stringify([info.externalSource, info.externalSpec]);
}

/** lakemap's own root relative to the source, when it lies inside it. */
function ownRootInside(engineRoot: string, sourceRoot: string): string | undefined {
  let real = engineRoot;
  try {
    real = fs.realpathSync(engineRoot);
  } catch {
    // not created yet: compare the path as given
  }
  const rel = path.relative(sourceRoot, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isFinite(n) || n < 0) throw new LakemapError('INVALID_ARGUMENT', `${name} must be a non-negative number of milliseconds`);
  return n;
}

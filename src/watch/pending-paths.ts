// The changed paths a watch collects between refreshes, handed to the next refresh as `changedPaths`.

/** What one refresh was given: the paths, or none (a full listing). */
export interface TakenPaths {
  /** Undefined: the refresh lists the whole source. */
  paths: string[] | undefined;
}

/** Paths kept at most; past them the next refresh lists the whole source (it costs about as much then). */
export const MAX_PENDING_PATHS = 10_000;

/**
 * Paths since the last completed refresh. A refresh takes them when it starts; paths that arrive
 * meanwhile wait for the next one; a refresh that does not complete (failed, cancelled, busy) puts
 * back what it took, so nothing is dropped before a refresh has seen it. Starts wanting a full
 * refresh (changes made while nobody watched); also wants one after lost events, a safety refresh,
 * a moved source, or more than `cap` paths.
 */
export class PendingPaths {
  private paths = new Set<string>();
  private full = true;

  constructor(private readonly cap = MAX_PENDING_PATHS) {}

  /** How many paths wait (0 while a full refresh is wanted). */
  get size(): number {
    return this.paths.size;
  }

  /** True while the next refresh must list the whole source. */
  get wantsFull(): boolean {
    return this.full;
  }

  /** Paths that may have changed. */
  add(paths: readonly string[]): void {
    if (this.full) return;
    for (const p of paths) this.paths.add(p);
    if (this.paths.size > this.cap) this.needFull();
  }

  /** The next refresh must list the whole source (events lost, unknown changes). */
  needFull(): void {
    this.full = true;
    this.paths = new Set();
  }

  /** At a refresh's start: what it is given. Later paths wait for the next refresh. */
  take(): TakenPaths {
    const taken: TakenPaths = { paths: this.full ? undefined : [...this.paths] };
    this.full = false;
    this.paths = new Set();
    return taken;
  }

  /** The refresh that took `taken` did not complete: its paths wait again, with those that came meanwhile. */
  putBack(taken: TakenPaths): void {
    if (taken.paths === undefined) this.needFull();
    else this.add(taken.paths);
  }
}

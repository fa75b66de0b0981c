// Native change events through @parcel/watcher (an optional dependency, loaded on first use).
import * as path from 'node:path';
import type { ChangeFilter } from './filter.js';
import type { ChangeSource } from './types.js';

interface ParcelEvent {
  path: string;
  type: 'create' | 'update' | 'delete';
}
interface ParcelSubscription {
  unsubscribe(): Promise<void>;
}
interface ParcelWatcher {
  subscribe(dir: string, fn: (err: Error | null, events: ParcelEvent[]) => void, opts?: { ignore?: string[] }): Promise<ParcelSubscription>;
}

let loaded: Promise<ParcelWatcher | Error> | undefined;

/** Loads `@parcel/watcher` once; resolves to the Error when it is not installed or its binary does not load. */
export function loadParcel(): Promise<ParcelWatcher | Error> {
  loaded ??= import('@parcel/watcher' as string).then(
    (m: { default?: ParcelWatcher } & ParcelWatcher) => (typeof m.subscribe === 'function' ? m : m.default!),
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  return loaded;
}

/**
 * Watches a local directory with one native watch per directory (inotify on Linux, FSEvents on macOS,
 * ReadDirectoryChangesW on Windows). `start` rejects when the watcher is missing or `subscribe()`
 * fails (e.g. the inotify watch limit is reached), so the caller can fall back to polling.
 */
export class ParcelSource implements ChangeSource {
  readonly mechanism = 'parcel' as const;
  private sub: ParcelSubscription | undefined;

  constructor(
    private readonly root: string,
    private readonly filter: ChangeFilter,
    readonly reason: string,
    /** Paths relative to the root whose subtrees need no watches (lakemap's own root). */
    private readonly ignore: string[] = [],
    private readonly load: () => Promise<ParcelWatcher | Error> = loadParcel,
    /** Gets the event paths a refresh's listing may list, before `changed` (see {@link ChangeFilter.lists}). */
    private readonly noted?: (paths: string[]) => void,
  ) {}

  async start(changed: (paths: string[]) => void, failed: (error: Error) => void): Promise<void> {
    const watcher = await this.load();
    if (watcher instanceof Error) throw new Error(`@parcel/watcher is not available (${watcher.message})`);
    try {
      this.sub = await watcher.subscribe(
        this.root,
        (err, events) => {
          if (err) {
            failed(err);
            changed([]); // events may have been lost (e.g. a queue overflow): let the refresh look
            return;
          }
          const paths: string[] = [];
          const listed: string[] = [];
          for (const e of events) {
            const rel = path.relative(this.root, e.path).split(path.sep).join('/');
            if (rel === '' || rel.startsWith('..')) continue;
            if (this.noted && this.filter.lists?.(rel)) listed.push(rel);
            if (this.filter.accepts(rel)) paths.push(rel);
          }
          if (listed.length > 0) this.noted!(listed);
          if (paths.length > 0) changed(paths);
        },
        { ignore: this.ignore.map((p) => path.join(this.root, p)) },
      );
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      const hint = /ENOSPC|limit|too many/i.test(msg) ? ' (the inotify watch limit is reached: raise fs.inotify.max_user_watches)' : '';
      throw new Error(`@parcel/watcher could not watch ${this.root}: ${msg}${hint}`);
    }
  }

  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    // unsubscribe() can reject (parcel-bundler/watcher#129); closing must not.
    await sub?.unsubscribe().catch(() => undefined);
  }
}

// Picks how to watch a source: native events, polling a directory, or polling a listing.
import * as fs from 'node:fs';
import type { SourceStorage } from '../scanner.js';
import type { ChangeFilter } from './filter.js';
import { isRemoteFs, mountOf } from '../storage/mounts.js';
import { ParcelSource, loadParcel } from './parcel.js';
import { ListingPollSource } from './poll-listing.js';
import { LocalPollSource } from './poll-local.js';
import type { ChangeSource, WatchClock } from './types.js';

/** What the choice rests on. */
export interface SourceTarget {
  /** The opened source. */
  storage: SourceStorage;
  /** Real path of the source directory when it is local or mounted; absent for object stores. */
  localRoot?: string;
  filter: ChangeFilter;
  /** Sub path to list when polling a listing (a table's commit directory), '' for all. */
  listPrefix: string;
  clock: WatchClock;
  pollIntervalMs: number;
  fullPassEvery: number;
  /** Force `poll` (or `parcel`, which still falls back). */
  mechanism?: 'parcel' | 'poll';
  /** Text of /proc/self/mountinfo (tests). */
  mountInfo?: string;
  /** Loader of @parcel/watcher (tests). */
  loadParcel?: typeof loadParcel;
  /**
   * Called by native events and listing polls with every changed path the full listing may list (see
   * {@link ChangeFilter.lists}), triggering or not: what a watch gives its refreshes as `changedPaths`.
   */
  noted?: (paths: string[]) => void;
}

/**
 * Starts the right change source for a target and resolves once it watches. Native events that
 * cannot start (watcher missing, watch limit reached) fall back to polling, saying why in `reason`.
 */
export async function startChangeSource(
  t: SourceTarget,
  changed: (paths: string[]) => void,
  failed: (error: Error) => void,
): Promise<ChangeSource> {
  if (t.localRoot === undefined) {
    const src = new ListingPollSource(t.storage, t.filter, `${t.storage.root} is an object store: polling its listing (size, ETag, last-modified)`, {
      clock: t.clock,
      intervalMs: t.pollIntervalMs,
      prefix: t.listPrefix,
      ...(t.noted ? { noted: t.noted } : {}),
    });
    await src.start(changed, failed);
    return src;
  }
  const root = t.localRoot;
  const poll = (reason: string, remote = false): LocalPollSource =>
    new LocalPollSource(root, t.filter, reason, { clock: t.clock, intervalMs: t.pollIntervalMs, fullPassEvery: remote ? 1 : t.fullPassEvery, syncIo: !remote });
  const mount = mountOf(root, t.mountInfo);
  let src: ChangeSource;
  if (mount && isRemoteFs(mount.fsType) && t.mechanism !== 'parcel') {
    // Directory mtimes and stat caches on these are not trustworthy: every pass stats every file.
    src = poll(`${root} is on a ${mount.fsType} mount (${mount.mountPoint}), which sends no events for changes made elsewhere: polling every file`, true);
  } else if (t.mechanism === 'poll') {
    src = poll(`polling ${root} (asked for)`);
  } else {
    const parcel = new ParcelSource(root, t.filter, `native events on ${root}${mount ? ` (${mount.fsType})` : ''}`, skippedDirs(root, t.filter), t.loadParcel, t.noted);
    try {
      await parcel.start(changed, failed);
      return parcel;
    } catch (e) {
      await parcel.close();
      src = poll(`fell back to polling: ${(e as Error).message}`);
    }
  }
  await src.start(changed, failed);
  return src;
}

/** Top-level directories no change inside of which can matter: not watched at all. */
export function skippedDirs(root: string, filter: ChangeFilter): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      // A directory a refresh lists is watched even when no change in it triggers one: its paths go into hints.
      .filter((e) => e.isDirectory() && !filter.descends(e.name) && !filter.lists?.(e.name))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

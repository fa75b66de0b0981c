// Polling a local or mounted directory tree at bounded cost: directories first, files only where needed.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChangeFilter } from './filter.js';
import { PollLoop } from './poll-loop.js';
import type { ChangeSource, WatchClock } from './types.js';

interface DirState {
  /** mtime and inode of the directory itself: an add, delete or rename inside changes them. */
  stamp: string;
  /** Digest of the names, sizes and mtimes of the files in it that matter. */
  files: string;
  /** Sub directories (relative paths) being followed. */
  subdirs: string[];
  /** Its mtime was recent when read: a change within the same timestamp tick would not move it (see RACY_MS). */
  racy: boolean;
}

/**
 * A directory whose mtime was within this much of the time it was read is read again on the next pass
 * whatever its stamp. File systems stamp with a coarse clock (a jiffy on Linux before 6.13, a second or
 * more on some network mounts): a file added in the same tick as our read leaves the mtime as we saw it,
 * and only the next full pass would find it ("racy" stamps, as git calls them).
 */
const RACY_MS = 2000;

/** Stats or reads at once in async mode. */
const IN_FLIGHT = 32;
/** Synchronous calls between two yields to the event loop (a local stat is ~2 µs: about 1 ms per batch). */
const SYNC_BATCH = 500;

/**
 * Polls a directory tree. Each pass stats every directory (cheap: an add, delete or rename changes
 * the directory's mtime) and lists and stats files only in directories that changed; every
 * `fullPassEvery`-th pass stats every file, which catches rewrites in place. Symlinked directories
 * are not followed (a refresh still reads them; the safety of a full refresh covers them).
 */
export class LocalPollSource implements ChangeSource {
  readonly mechanism = 'poll' as const;
  private readonly dirs = new Map<string, DirState>();
  private readonly loop: PollLoop;
  private passes = 0;
  private changed: (paths: string[]) => void = () => {};
  private failed: (error: Error) => void = () => {};

  constructor(
    private readonly root: string,
    private readonly filter: ChangeFilter,
    readonly reason: string,
    options: { clock: WatchClock; intervalMs: number; fullPassEvery: number; syncIo?: boolean },
  ) {
    this.fullPassEvery = options.fullPassEvery;
    this.syncIo = options.syncIo ?? true;
    this.loop = new PollLoop(options.clock, options.intervalMs, () => this.tick());
  }

  private readonly fullPassEvery: number;
  /**
   * Local disks answer a synchronous stat in microseconds, several times faster than a thread-pool
   * round trip, so calls are made synchronously in batches with a yield between them. On a network
   * mount one call can take long: there every call is async.
   */
  private readonly syncIo: boolean;
  private ops = 0;

  private async tick1(): Promise<void> {
    if (++this.ops % SYNC_BATCH === 0) await new Promise((r) => setImmediate(r));
  }

  private async stat(abs: string): Promise<fs.Stats> {
    if (!this.syncIo) return fs.promises.stat(abs);
    await this.tick1();
    return fs.statSync(abs);
  }

  private async readdir(abs: string): Promise<fs.Dirent[]> {
    if (!this.syncIo) return fs.promises.readdir(abs, { withFileTypes: true });
    await this.tick1();
    return fs.readdirSync(abs, { withFileTypes: true });
  }

  private async stampOf(abs: string): Promise<string | undefined> {
    return (await this.statDir(abs))?.stamp;
  }

  private async statDir(abs: string): Promise<{ stamp: string; mtimeMs: number } | undefined> {
    try {
      const s = await this.stat(abs);
      return s.isDirectory() ? { stamp: `${s.mtimeMs}:${s.ino}`, mtimeMs: s.mtimeMs } : undefined;
    } catch (e) {
      if (isGone(e)) return undefined;
      throw e;
    }
  }

  /** Poll interval now in use and the last pass's duration. */
  get timing(): { pollIntervalMs: number; lastPollMs: number } {
    return { pollIntervalMs: this.loop.currentIntervalMs, lastPollMs: Math.round(this.loop.lastPassMs) };
  }

  /** Directories followed. */
  get directoryCount(): number {
    return this.dirs.size;
  }

  async start(changed: (paths: string[]) => void, failed: (error: Error) => void): Promise<void> {
    this.changed = changed;
    this.failed = failed;
    await this.loop.start(); // the first pass records the baseline
  }

  async close(): Promise<void> {
    await this.loop.stop();
  }

  /** One scheduled pass; returns over how many passes its cost is spread (full passes: `fullPassEvery`). */
  private async tick(): Promise<number> {
    const full = this.passes === 0 || this.passes % this.fullPassEvery === 0; // the first pass reads everything too
    try {
      const changed = await this.pass(full);
      if (changed.length > 0) this.changed(changed);
    } catch (e) {
      this.failed(e as Error);
      this.changed([]); // could not tell: let the refresh look
    }
    return full ? this.fullPassEvery : 1;
  }

  /** One pass; returns the directories (relative) in which something that matters changed. The first pass only records. */
  async pass(full = false): Promise<string[]> {
    const first = this.passes++ === 0;
    const changed: string[] = [];
    if (first) {
      await this.scanTree('', changed);
      return [];
    }
    const known = [...this.dirs.keys()];
    const stamps = await mapLimit(known, (d) => this.stampOf(this.abs(d)));
    const toRescan: string[] = [];
    for (let i = 0; i < known.length; i++) {
      const d = known[i]!;
      const st = this.dirs.get(d);
      if (!st) continue; // dropped with a removed parent
      const stamp = stamps[i];
      if (stamp === undefined) {
        if (d === '') throw new Error(`${this.root} is gone`);
        this.drop(d);
        changed.push(d);
      } else if (full || st.racy || stamp !== st.stamp) toRescan.push(d);
    }
    await mapLimit(toRescan, async (d) => {
      if (this.dirs.has(d)) await this.rescan(d, changed);
    });
    return [...new Set(changed)];
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  private drop(dir: string): void {
    const st = this.dirs.get(dir);
    this.dirs.delete(dir);
    for (const s of st?.subdirs ?? []) this.drop(s);
  }

  /** Records a directory and everything under it. */
  private async scanTree(dir: string, changed: string[]): Promise<void> {
    let level = [dir];
    while (level.length > 0) {
      const next: string[] = [];
      await mapLimit(level, async (d) => {
        const st = await this.read(d);
        if (!st) return;
        this.dirs.set(d, st);
        next.push(...st.subdirs);
      });
      level = next;
    }
    void changed;
  }

  /** Reads a changed directory again; reports it when its files changed, and follows new or removed subdirectories. */
  private async rescan(dir: string, changed: string[]): Promise<void> {
    const old = this.dirs.get(dir)!;
    const now = await this.read(dir);
    if (!now) {
      this.drop(dir);
      changed.push(dir);
      return;
    }
    this.dirs.set(dir, now);
    if (now.files !== old.files) changed.push(dir);
    const had = new Set(old.subdirs);
    const has = new Set(now.subdirs);
    for (const s of old.subdirs) {
      if (!has.has(s) && this.dirs.has(s)) {
        this.drop(s);
        changed.push(s);
      }
    }
    for (const s of now.subdirs) {
      if (!had.has(s)) {
        await this.scanTree(s, changed);
        changed.push(s);
      }
    }
  }

  private async read(dir: string): Promise<DirState | undefined> {
    const abs = this.abs(dir);
    let stat: { stamp: string; mtimeMs: number } | undefined;
    let entries: fs.Dirent[];
    try {
      stat = await this.statDir(abs);
      entries = await this.readdir(abs);
    } catch (e) {
      if (isGone(e)) return undefined;
      throw e;
    }
    if (stat === undefined) return undefined;
    // Wall-clock time, as mtimes are (not the watch's clock, which tests replace).
    const racy = Date.now() - stat.mtimeMs < RACY_MS;
    const subdirs: string[] = [];
    const files: string[] = [];
    for (const ent of entries) {
      const rel = dir === '' ? ent.name : `${dir}/${ent.name}`;
      if (ent.isDirectory()) {
        if (this.filter.descends(rel)) subdirs.push(rel);
      } else if ((ent.isFile() || ent.isSymbolicLink()) && this.filter.accepts(rel)) files.push(rel);
    }
    files.sort();
    const stats = await mapLimit(files, async (f) => {
      try {
        const s = await this.stat(this.abs(f));
        return s.isFile() ? `${f}\0${s.size}\0${s.mtimeMs}` : '';
      } catch (e) {
        if (isGone(e)) return '';
        throw e;
      }
    });
    const digest = createHash('sha1');
    for (const s of stats) digest.update(s).update('\n');
    subdirs.sort();
    return { stamp: stat.stamp, files: digest.digest('base64'), subdirs, racy };
  }
}

function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Maps with at most {@link IN_FLIGHT} calls pending, in order. */
export async function mapLimit<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, worker));
  return out;
}

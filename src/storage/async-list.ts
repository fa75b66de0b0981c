/**
 * Listing a directory tree with many file-system calls in flight, for high-latency file systems (a
 * FUSE-mounted bucket, NFS, SMB) where each `readdir`, `stat` and `realpath` is a network round trip:
 * walked one synchronous call at a time, a listing of 10,000 files is 10,000 round trips end to end.
 *
 * Same result and same rules as {@link LocalStorage.listSync}: the same files in the same (sorted)
 * order, the name filter applied per entry, symlinks followed only while their real path stays inside
 * the root (one that leads out fails the listing with `PATH_ESCAPE`), dangling links and symlink loops
 * skipped, names that are not valid UTF-8 reported through `onSkip`. Directories are walked
 * concurrently; within one directory entries are decided in readdir order, as the synchronous walk
 * does, so which of two links to the same directory is followed does not depend on timing.
 * @module
 */
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakemapError } from '../errors.js';
import type { FileStat } from '../scanner.js';
import { escapeBytes, isInside, normalizeRelative, utf8Name } from './local.js';

/** The file-system calls a listing makes (asynchronous; a test may slow or count them). */
export interface ListFs {
  /** Entries of a directory, names as bytes (a name that is not UTF-8 must not come back mangled). */
  readdir(dir: string): Promise<Dirent<Buffer>[]>;
  /** `stat(2)`: follows symlinks. */
  stat(p: string): Promise<{ size: number; mtimeMs: number; isFile(): boolean; isDirectory(): boolean }>;
  /** `realpath(3)`. */
  realpath(p: string): Promise<string>;
}

/** Node's asynchronous file system (libuv's thread pool: `UV_THREADPOOL_SIZE` bounds the real parallelism). */
export const nodeListFs: ListFs = {
  readdir: (dir) => fs.promises.readdir(dir, { withFileTypes: true, encoding: 'buffer' }),
  stat: (p) => fs.promises.stat(p),
  realpath: (p) => fs.promises.realpath(p),
};

/** Options of {@link listTreeAsync}. */
export interface AsyncListOptions {
  /** Called with each entry's name and its directory (relative); false leaves the entry (and what is below it) out. */
  filter?: (name: string, relDir: string) => boolean;
  /** False: no `stat` per file; size and mtime are -1. Default true. */
  withStats?: boolean;
  /** Told about each name that is skipped because it is not valid UTF-8. */
  onSkip?: (message: string) => void;
  /** Aborting fails the listing with `CANCELLED` at once; no new call starts. */
  signal?: AbortSignal;
  /** File-system calls in flight at most. Default 64. */
  concurrency?: number;
  /** The calls to make; default {@link nodeListFs}. */
  fs?: ListFs;
}

/** Settles when the first of several concurrent tasks fails, or when the last one ends. */
class Tasks {
  private pending = 0;
  failed = false;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;

  constructor() {
    this.done = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  spawn(task: () => Promise<void>): void {
    this.pending++;
    task().then(
      () => {
        if (--this.pending === 0 && !this.failed) this.resolve();
      },
      (e: unknown) => {
        this.pending--;
        this.fail(e);
      },
    );
  }

  fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(e);
  }
}

/** At most `limit` calls in flight; none starts after the walk failed or was cancelled. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly limit: number,
    private readonly stopped: () => void,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      this.stopped(); // throws when the walk is over: no new round trip for a result nobody wants
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }
}

/**
 * Lists the regular files below `dir` of the directory `root` (an absolute real path), with up to
 * `concurrency` file-system calls in flight. See the module comment for the rules it shares with
 * the synchronous listing.
 */
export async function listTreeAsync(root: string, dir = '', options: AsyncListOptions = {}): Promise<FileStat[]> {
  const { filter, onSkip, signal } = options;
  const withStats = options.withStats !== false;
  const fsApi = options.fs ?? nodeListFs;
  const concurrency = options.concurrency ?? 64;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new LakemapError('INVALID_ARGUMENT', 'listing concurrency must be a positive integer');
  const cancelled = (): LakemapError => new LakemapError('CANCELLED', 'refresh cancelled');
  if (signal?.aborted) throw cancelled();

  const tasks = new Tasks();
  const limiter = new Limiter(concurrency, () => {
    if (signal?.aborted) throw cancelled();
    if (tasks.failed) throw cancelled();
  });
  const call = <T>(fn: () => Promise<T>): Promise<T> => limiter.run(fn);
  const out: FileStat[] = [];
  const skips: string[] = [];
  const start = normalizeRelative(dir, root);

  /** Real path of `rel` checked against the root; undefined when it cannot be resolved (dangling). */
  const resolveLink = async (rel: string): Promise<string | undefined> => {
    const abs = path.join(root, ...rel.split('/'));
    let real: string;
    try {
      real = await call(() => fsApi.realpath(abs));
    } catch (e) {
      if (LakemapError.is(e)) throw e;
      return undefined;
    }
    if (!isInside(real, root)) throw new LakemapError('PATH_ESCAPE', `${rel} leads outside ${root} (to ${real})`, { path: rel });
    return real;
  };

  const statFile = async (rel: string): Promise<void> => {
    try {
      const st = await call(() => fsApi.stat(path.join(root, rel)));
      out.push({ path: rel, size: st.size, mtimeMs: st.mtimeMs });
    } catch (e) {
      if (LakemapError.is(e)) throw e;
      throw ioError(rel, e);
    }
  };

  const walk = async (relDir: string, ancestors: Set<string>): Promise<void> => {
    let seen = ancestors;
    const absDir = relDir === '' ? root : path.join(root, relDir);
    let entries: Dirent<Buffer>[];
    try {
      entries = await call(() => fsApi.readdir(absDir));
    } catch (e) {
      if (LakemapError.is(e)) throw e;
      if (isNotFound(e) && relDir === start) return;
      throw ioError(relDir || '.', e);
    }
    const kept: { ent: Dirent<Buffer>; rel: string }[] = [];
    for (const ent of entries) {
      const name = utf8Name(ent.name);
      if (name === undefined) {
        skips.push(`skipped ${relDir === '' ? '' : `${relDir}/`}${escapeBytes(ent.name)}: its name is not valid UTF-8`);
        continue;
      }
      if (filter && !filter(name, relDir)) continue;
      kept.push({ ent, rel: relDir === '' ? name : `${relDir}/${name}` });
    }
    // Links of this directory resolved all at once; decided below in readdir order.
    const links = await Promise.all(
      kept.map(async ({ ent, rel }) => {
        if (!ent.isSymbolicLink()) return undefined;
        const real = await resolveLink(rel);
        const abs = real ?? path.join(root, ...rel.split('/'));
        try {
          const st = await call(() => fsApi.stat(abs));
          return { real: real ?? abs, st };
        } catch (e) {
          if (LakemapError.is(e)) throw e;
          return 'dangling' as const;
        }
      }),
    );
    kept.forEach(({ ent, rel }, i) => {
      const link = links[i];
      if (link === 'dangling') return;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (link) {
        isDir = link.st.isDirectory();
        isFile = link.st.isFile();
        if (isDir) {
          if (seen.has(link.real)) return; // symlink loop
          seen = new Set(seen).add(link.real);
        }
      }
      if (isDir) {
        const below = seen;
        tasks.spawn(() => walk(rel, below));
      } else if (isFile) {
        if (!withStats) out.push({ path: rel, size: -1, mtimeMs: -1 });
        else if (link) out.push({ path: rel, size: link.st.size, mtimeMs: link.st.mtimeMs });
        else tasks.spawn(() => statFile(rel));
      }
    });
  };

  let onAbort: (() => void) | undefined;
  if (signal) {
    onAbort = () => tasks.fail(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    tasks.spawn(async () => {
      if (start !== '') await resolveLink(start); // PATH_ESCAPE when the start leads out
      await walk(start, new Set([root]));
    });
    await tasks.done;
  } finally {
    if (onAbort) signal!.removeEventListener('abort', onAbort);
  }
  if (onSkip) for (const s of skips.sort()) onSkip(s);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(rel: string, e: unknown): LakemapError {
  return new LakemapError('IO_ERROR', `${rel}: ${(e as Error)?.message ?? String(e)}`, { path: rel, cause: e });
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakemapError, corruptFile } from '../errors.js';
import type { FileStat, ListOptions, SourceStorage } from '../scanner.js';
import { checkRange, isInside, isPlainRelative, normalizeRelative } from './paths.js';
import { listLocal } from './local-list.js';
import { ioError, isNotFound } from './local-errors.js';

export { checkRange, escapeBytes, isInside, normalizeRelative, utf8Name } from './paths.js';

const DEFAULT_MAX_FILE = 256 * 1024 * 1024;
/** Read-only, and refuse to open a symlink as the last component (where the OS has O_NOFOLLOW). */
const OPEN_NOFOLLOW = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0);
const OPEN_DIR = fs.constants.O_RDONLY | (fs.constants.O_DIRECTORY ?? 0);
/** This process's descriptor directory, where it can be used as a directory prefix (Linux). */
const PROC_FD = procFdDir();

/**
 * {@link SourceStorage} over a local or mounted directory. Paths never leave the root: `..` is refused
 * lexically and every symlink met is resolved and checked against the root's real path.
 *
 * The synchronous methods exist for the engine's hot path: on a warm page cache a synchronous
 * open/read/close is several times faster than a thread-pool round trip per call.
 */
export class LocalStorage implements SourceStorage {
  /** Real path of the root directory. */
  readonly root: string;

  /** `root` must be an existing directory; it is resolved to its real path. */
  constructor(root: string) {
    let real: string;
    try {
      real = fs.realpathSync(root);
    } catch (e) {
      throw new LakemapError('NOT_FOUND', `source directory ${root} does not exist`, { path: root, cause: e });
    }
    if (!fs.statSync(real).isDirectory()) {
      throw new LakemapError('INVALID_SOURCE', `source ${root} is not a directory`, { path: root });
    }
    this.root = real;
  }

  /** Absolute path of `rel`, refusing anything that leaves the root (lexically or through a symlink). */
  resolve(rel: string): string {
    const clean = normalizeRelative(rel, this.root);
    const abs = clean === '' ? this.root : path.join(this.root, ...clean.split('/'));
    let real: string;
    try {
      real = fs.realpathSync.native(abs); // one realpath(3) call: several times faster than the JS walk
    } catch {
      return abs; // does not exist (yet): callers report NOT_FOUND on use; lexical check already passed
    }
    if (!isInside(real, this.root)) {
      throw new LakemapError('PATH_ESCAPE', `${rel} leads outside ${this.root} (to ${real})`, { path: rel });
    }
    return real;
  }

  async stat(rel: string): Promise<FileStat | undefined> {
    return this.statSync(rel);
  }

  /** Synchronous {@link LocalStorage.stat}. */
  statSync(rel: string): FileStat | undefined {
    const abs = this.resolve(rel);
    try {
      const st = fs.statSync(abs);
      if (!st.isFile()) return undefined;
      return { path: normalizeRelative(rel, this.root), size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw ioError(rel, e);
    }
  }

  async read(rel: string, offset: number, length: number): Promise<Uint8Array> {
    const fh = await this.openCheckedAsync(rel);
    try {
      const { size } = await fh.stat();
      checkRange(rel, offset, length, size);
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw corruptFile(rel, `file shrank while reading (wanted ${length} bytes at ${offset})`);
        done += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  /**
   * One open (checked as {@link LocalStorage.read} checks it), one fstat, the reads, one close: not a
   * stat of the path first and a second stat of the opened file (table scanners read every manifest
   * this way). O_NONBLOCK so that opening a FIFO cannot wait for a writer; fstat then refuses it.
   * Synchronous calls, as the engine's other hot paths on a local disk: four thread-pool round trips
   * per file (open, fstat, read, close) cost several times the calls themselves (an iceberg table's
   * 101 manifests: ~20 ms against ~4). A high-latency mount gets {@link LocalStorage.readFileAsync}.
   */
  async readFile(rel: string, maxBytes = DEFAULT_MAX_FILE): Promise<Uint8Array> {
    let fd: number;
    try {
      fd = this.openChecked(rel, OPEN_NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0));
    } catch (e) {
      throw this.readFileOpenError(rel, e);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw this.readFileOpenError(rel, undefined);
      if (st.size > maxBytes) throw corruptFile(rel, `file is ${st.size} bytes, more than the ${maxBytes} allowed for it`);
      const buf = new Uint8Array(st.size);
      let done = 0;
      while (done < st.size) {
        const bytesRead = fs.readSync(fd, buf, done, st.size - done, done);
        if (bytesRead === 0) throw corruptFile(rel, `file shrank while reading (wanted ${st.size} bytes at 0)`);
        done += bytesRead;
      }
      return buf;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** How a failed open of {@link LocalStorage.readFile} is reported (undefined: the name is not a file). */
  private readFileOpenError(rel: string, e: unknown): unknown {
    // A dangling symlink: O_NOFOLLOW refuses it, and there is nothing to resolve it to.
    const dangling = LakemapError.is(e, 'IO_ERROR') && isLinkRefused((e as { cause?: unknown }).cause);
    if (e === undefined || LakemapError.is(e, 'NOT_FOUND') || dangling) return new LakemapError('NOT_FOUND', `${rel} not found under ${this.root}`, { path: rel });
    return e;
  }

  /**
   * {@link LocalStorage.readFile} with every step on the thread pool: for a high-latency mount (a
   * mounted bucket, NFS), where each call is a network round trip that must not block the event loop.
   */
  async readFileAsync(rel: string, maxBytes = DEFAULT_MAX_FILE): Promise<Uint8Array> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await this.openCheckedAsync(rel, OPEN_NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0));
    } catch (e) {
      throw this.readFileOpenError(rel, e);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw this.readFileOpenError(rel, undefined);
      if (st.size > maxBytes) throw corruptFile(rel, `file is ${st.size} bytes, more than the ${maxBytes} allowed for it`);
      const buf = new Uint8Array(st.size);
      let done = 0;
      while (done < st.size) {
        const { bytesRead } = await fh.read(buf, done, st.size - done, done);
        if (bytesRead === 0) throw corruptFile(rel, `file shrank while reading (wanted ${st.size} bytes at 0)`);
        done += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  async list(dir = '', options?: ListOptions): Promise<FileStat[]> {
    return this.listSync(dir, undefined, options?.stats !== false);
  }

  /**
   * Synchronous {@link LocalStorage.list}. Symlinks are followed only while they stay inside the root.
   * Without `withStats`, size and mtime are -1 (saves a stat per file when nothing will be compared).
   */
  listSync(dir = '', filter?: (name: string, relDir: string) => boolean, withStats = true, onSkip?: (message: string) => void): FileStat[] {
    const steps = this.listSteps(dir, filter, withStats, onSkip);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * {@link LocalStorage.listSync} in steps: the generator yields the number of files found so far
   * every 256 entries and after each directory, and returns the sorted listing. A
   * caller can report progress and let the event loop run between steps; the work is the same.
   */
  *listSteps(dir = '', filter?: (name: string, relDir: string) => boolean, withStats = true, onSkip?: (message: string) => void): Generator<number, FileStat[], void> {
    return yield* listLocal(this.root, (rel) => this.resolve(rel), dir, filter, withStats, onSkip);
  }

  /**
   * Size and mtime of a path {@link LocalStorage.listSteps} returned: `stat` of the path under the
   * root, links followed (the listing checked that they stay inside).
   */
  statListedSync(rel: string): {
    /** Bytes. */
    size: number;
    /** Modification time, epoch milliseconds. */
    mtimeMs: number;
  } {
    try {
      const st = fs.statSync(`${this.root}/${rel}`);
      return { size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      throw ioError(rel, e);
    }
  }

  /**
   * Opens a file for reading so that what is opened is what was checked: the last component is
   * opened without following links (a file swapped for a symlink after listing fails instead of
   * being read through it), a symlink met there is resolved and checked first, and on Linux the
   * opened descriptor's real path is checked against the root (covers a swapped parent directory).
   */
  private openChecked(rel: string, flags = OPEN_NOFOLLOW): number {
    const clean = normalizeRelative(rel, this.root);
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.root, clean), flags);
    } catch (e) {
      if (!isLinkRefused(e)) throw openError(rel, e);
      try {
        fd = fs.openSync(this.resolve(clean), flags);
      } catch (e2) {
        if (LakemapError.is(e2)) throw e2;
        throw openError(rel, e2);
      }
    }
    try {
      this.checkOpened(rel, fd);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return fd;
  }

  /** The directory last opened by {@link LocalStorage.openInDirSync}, its descriptor already checked. */
  private dir: { rel: string; fd: number; base: string } | undefined;

  /**
   * Opens `rel` relative to its directory's open descriptor, as `openat(2)` would: the directory is
   * opened and its real path checked once, then files in it are opened through
   * `/proc/<pid>/fd/<dir>/<name>` with O_NOFOLLOW, so neither a swapped parent directory nor a
   * symlink as the name can lead outside, and no per-file `readlink` is needed (a quarter of the
   * syscall time of a full refresh). The descriptor is kept until the directory changes or the
   * event loop next turns (the scan yields every batch). Undefined where there is no such
   * `/proc` (not Linux), for a name that is a symlink and on any failure: then
   * {@link LocalStorage.openChecked} opens the file as it always did (resolving and checking a
   * link, or failing with its usual error).
   */
  private openInDirSync(rel: string): number | undefined {
    if (PROC_FD === undefined) return undefined;
    const clean = isPlainRelative(rel) ? rel : normalizeRelative(rel, this.root);
    const slash = clean.lastIndexOf('/');
    const dirRel = slash < 0 ? '' : clean.slice(0, slash);
    let dir = this.dir;
    if (dir === undefined || dir.rel !== dirRel) {
      this.closeDir();
      let dfd: number;
      try {
        dfd = fs.openSync(dirRel === '' ? this.root : `${this.root}/${dirRel}`, OPEN_DIR);
      } catch {
        return undefined; // missing, not searchable…: the per-file path fails it with its usual error
      }
      try {
        this.checkOpened(rel, dfd);
      } catch (e) {
        fs.closeSync(dfd);
        throw e;
      }
      dir = { rel: dirRel, fd: dfd, base: `${PROC_FD}/${dfd}/` };
      this.dir = dir;
      setImmediate(() => {
        if (this.dir === dir) this.closeDir();
      });
    }
    try {
      return fs.openSync(dir.base + clean.slice(slash + 1), OPEN_NOFOLLOW);
    } catch {
      // A symlink as the name (ELOOP), or a failure: the per-file path resolves and checks the link,
      // or fails the file with its usual error and message.
      return undefined;
    }
  }

  private closeDir(): void {
    const dir = this.dir;
    if (!dir) return;
    this.dir = undefined;
    fs.closeSync(dir.fd);
  }

  private async openCheckedAsync(rel: string, flags = OPEN_NOFOLLOW): Promise<fs.promises.FileHandle> {
    const clean = normalizeRelative(rel, this.root);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(path.join(this.root, clean), flags);
    } catch (e) {
      if (!isLinkRefused(e)) throw openError(rel, e);
      try {
        fh = await fs.promises.open(this.resolve(clean), flags);
      } catch (e2) {
        if (LakemapError.is(e2)) throw e2;
        throw openError(rel, e2);
      }
    }
    try {
      this.checkOpened(rel, fh.fd);
    } catch (e) {
      await fh.close();
      throw e;
    }
    return fh;
  }

  private checkOpened(rel: string, fd: number): void {
    if (process.platform !== 'linux') return;
    let real: string;
    try {
      real = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return; // no /proc: O_NOFOLLOW alone
    }
    if (!isInside(real, this.root)) {
      throw new LakemapError('PATH_ESCAPE', `${rel} leads outside ${this.root} (opened ${real})`, { path: rel });
    }
  }

  /**
   * Reads the last `min(size, want)` bytes of a file synchronously, with its current size and mtime
   * taken from the same open file descriptor. The bytes land in `scratch` when it is large enough
   * (the hot path reuses one buffer instead of allocating per file).
   */
  readTailSync(rel: string, want: number, scratch?: Uint8Array): FileTail {
    const fd = this.openInDirSync(rel) ?? this.openChecked(rel);
    try {
      const st = fs.fstatSync(fd);
      const n = Math.min(st.size, want);
      const tail = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const got = fs.readSync(fd, tail, done, n - done, st.size - n + done);
        if (got === 0) throw corruptFile(rel, 'file shrank while reading its tail');
        done += got;
      }
      return { tail, size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (LakemapError.is(e)) throw e;
      throw ioError(rel, e);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The tail of a file with the size and mtime seen when it was read. */
export interface FileTail {
  /** The last bytes of the file. */
  tail: Uint8Array;
  /** File size in bytes. */
  size: number;
  /** Modification time, epoch ms. */
  mtimeMs: number;
}

function openError(rel: string, e: unknown): LakemapError {
  if (isNotFound(e)) return new LakemapError('NOT_FOUND', `${rel} not found`, { path: rel, cause: e });
  return ioError(rel, e);
}

/** ELOOP (Linux, macOS) or EMLINK (FreeBSD): O_NOFOLLOW met a symlink. */
function isLinkRefused(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ELOOP' || code === 'EMLINK';
}

/** `/proc/<pid>/fd` (not `/proc/self`, which is one more symlink per lookup) when it works as a path prefix. */
function procFdDir(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const dir = `/proc/${process.pid}/fd`;
  try {
    return fs.statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

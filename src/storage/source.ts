import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakemapError } from '../errors.js';
import * as fs from 'node:fs';
import { LocalStorage, checkRange, isInside, normalizeRelative, type FileTail } from './local.js';
import { isHighLatencyDir } from './mounts.js';
import { listTreeAsync } from './async-list.js';
import type { ScanStorage } from './scan-storage.js';
import { BUILTIN_SCHEMES, openStorage, urlScheme, type OpenStorageOptions } from './open.js';
import type { SourceStorage } from '../scanner.js';

/** Where an external source string points: a root directory and a path below it. */
export interface SourceLocation {
  /** The directory the source may not leave (a volume's directory, or the source itself). */
  root: string;
  /** Sub path below `root`, `/`-separated ('' for the root itself). */
  subPath: string;
  /** Set for an object-store (or user-plugged) URL source; `root` is then the URL too. */
  url?: string;
}

/**
 * Parses an external source string without touching the file system:
 * an absolute path, a `file://` URI, or `volume://<name>/<sub/path>`.
 * With `volumes` configured, only volume sources are accepted.
 */
export function parseSource(source: unknown, volumes: Record<string, string> | undefined, extraSchemes: readonly string[] = []): SourceLocation {
  if (typeof source !== 'string' || source === '') {
    throw new LakemapError('INVALID_SOURCE', 'externalSource must be a non-empty string');
  }
  if (source.startsWith('volume://')) {
    const rest = source.slice('volume://'.length);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const dir = volumes?.[name];
    if (!volumes || dir === undefined || !Object.hasOwn(volumes, name)) {
      const known = volumes ? Object.keys(volumes).join(', ') || 'none' : 'none (the engine has no volumes)';
      throw new LakemapError('INVALID_SOURCE', `unknown volume "${name}" in ${source}; known volumes: ${known}`);
    }
    const sub = slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1));
    return { root: path.resolve(dir), subPath: normalizeRelative(sub, `volume ${name}`) };
  }
  if (volumes) {
    throw new LakemapError(
      'INVALID_SOURCE',
      `${source}: this engine only accepts volume sources (volume://<name>/<path>); volumes: ${Object.keys(volumes).join(', ')}`,
    );
  }
  let abs: string;
  if (source.startsWith('file://')) {
    try {
      abs = fileURLToPath(source);
    } catch (e) {
      throw new LakemapError('INVALID_SOURCE', `${source} is not a valid file:// URI`, { cause: e });
    }
  } else if (urlScheme(source) !== undefined) {
    const scheme = urlScheme(source)!;
    if (BUILTIN_SCHEMES.includes(scheme) || extraSchemes.includes(scheme)) {
      if (/[?#]/.test(source) || /^[a-z0-9+.-]+:\/\/[^/]*:[^/]*@/i.test(source)) {
        throw new LakemapError('INVALID_SOURCE', `${scheme}:// sources take no query, fragment or password; give credentials through the environment or storageOptions`);
      }
      return { root: source.replace(/\/+$/, ''), subPath: '', url: source };
    }
    throw new LakemapError('INVALID_SOURCE', `${source}: unsupported scheme ${scheme}:// (absolute path, file://, volume://, s3://, az://, abfss://, or a scheme plugged in with the engine's storage option)`);
  } else if (path.isAbsolute(source)) {
    abs = source;
  } else {
    throw new LakemapError('INVALID_SOURCE', `${source} is relative; give an absolute path, a file:// URI or volume://<name>/<path>`);
  }
  if (abs.split(/[\\/]/).includes('..')) {
    throw new LakemapError('PATH_ESCAPE', `${source} contains ".."; give the path without it`, { path: source });
  }
  return { root: path.resolve(abs), subPath: '' };
}

/**
 * Where a table scanner's storage is rooted: at the volume's directory, with the table as a sub path,
 * when the scanner maps files beside its table (`mapsBesideTable`) and the source is a folder inside a
 * volume; otherwise at the source itself (`tablePath` '').
 */
export function tableLocation(loc: SourceLocation, scanner: { kind: string; mapsBesideTable?: boolean }): { loc: SourceLocation; tablePath: string } {
  if (scanner.kind !== 'table' || scanner.mapsBesideTable !== true || loc.url !== undefined || loc.subPath === '') return { loc, tablePath: '' };
  new LocalStorage(loc.root).resolve(loc.subPath); // the table folder itself must resolve inside the volume (symlinks checked)
  return { loc: { root: loc.root, subPath: '' }, tablePath: loc.subPath };
}

/**
 * Opens the storage of a parsed source: the sub path is resolved inside the root (symlinks checked),
 * and the storage is rooted at it.
 */
export async function openSource(loc: SourceLocation, options: OpenStorageOptions = {}): Promise<SourceStorage> {
  if (loc.url !== undefined) return openStorage(loc.url, options);
  const local = openLocalSource(loc);
  return isHighLatencyDir(local.root) ? pipelined(local, options.signal, options.concurrency) : local;
}

/** The local directory of a parsed local source, its sub path resolved inside the root (symlinks checked). */
export function openLocalSource(loc: SourceLocation): LocalStorage {
  const rootStorage = new LocalStorage(loc.root);
  return loc.subPath === '' ? rootStorage : new LocalStorage(rootStorage.resolve(loc.subPath)); // resolve throws PATH_ESCAPE on a link that leads out
}

/**
 * A local storage without its synchronous read paths, so the scan pipelines tail reads (many in
 * flight) instead of one blocking round trip at a time: for mounted buckets and network file systems.
 * Every step of a read (realpath check, open, fstat, read, close) is asynchronous here: on such a
 * mount each is a network round trip. Listing too: directories and stats many at once (async-list.ts).
 */
function pipelined(local: LocalStorage, signal?: AbortSignal, concurrency?: number): SourceStorage & Pick<ScanStorage, 'listFiltered'> & { readTail(p: string, want: number): Promise<FileTail> } {
  const open = async (rel: string): Promise<fs.promises.FileHandle> => {
    const clean = normalizeRelative(rel, local.root);
    const abs = path.join(local.root, ...clean.split('/'));
    let real: string;
    try {
      real = await fs.promises.realpath(abs);
      if (!isInside(real, local.root)) throw new LakemapError('PATH_ESCAPE', `${rel} leads outside ${local.root} (to ${real})`, { path: rel });
      return await fs.promises.open(real, 'r');
    } catch (e) {
      if (LakemapError.is(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new LakemapError('NOT_FOUND', `${rel} not found`, { path: rel, cause: e });
      throw new LakemapError('IO_ERROR', `${rel}: ${(e as Error).message}`, { path: rel, cause: e });
    }
  };
  const readAt = async (fh: fs.promises.FileHandle, rel: string, buf: Uint8Array, offset: number): Promise<void> => {
    for (let done = 0; done < buf.length; ) {
      const { bytesRead } = await fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) throw new LakemapError('CORRUPT_FILE', `${rel}: file shrank while reading`, { path: rel });
      done += bytesRead;
    }
  };
  return {
    root: local.root,
    stat: (p) => local.stat(p),
    readFile: (p, max) => local.readFileAsync(p, max),
    list: (dir, o) => listTreeAsync(local.root, dir, { withStats: o?.stats !== false, ...(signal ? { signal } : {}), ...(concurrency ? { concurrency } : {}) }),
    listFiltered: (dir, filter, withStats, onSkip) =>
      listTreeAsync(local.root, dir, { ...(filter ? { filter } : {}), withStats: withStats !== false, ...(onSkip ? { onSkip } : {}), ...(signal ? { signal } : {}), ...(concurrency ? { concurrency } : {}) }),
    read: async (rel, offset, length) => {
      const fh = await open(rel);
      try {
        checkRange(rel, offset, length, (await fh.stat()).size);
        const buf = new Uint8Array(length);
        await readAt(fh, rel, buf, offset);
        return buf;
      } finally {
        await fh.close();
      }
    },
    readTail: async (rel, want) => {
      const fh = await open(rel);
      try {
        const st = await fh.stat();
        const tail = new Uint8Array(Math.min(st.size, want));
        await readAt(fh, rel, tail, st.size - tail.length);
        return { tail, size: st.size, mtimeMs: st.mtimeMs };
      } finally {
        await fh.close();
      }
    },
  };
}

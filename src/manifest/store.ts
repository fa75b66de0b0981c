import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LakemapError } from '../errors.js';
import { acquireLock, type CollectionLock, type Holder } from './lock.js';
import { VersionStore } from './versions.js';
import type { CollectionInfo } from '../types.js';

/** The immutable part of a collection, written once at creation (the version lives in `CURRENT`). */
export type StoredCollection = Omit<CollectionInfo, 'manifestVersion'> & {
  /** Random id of this incarnation of the name: a commit checks it, so it never lands in a re-created collection. */
  incarnation?: string;
};

const COLLECTION_FILE = 'collection.json';
const LOCK_FILE = 'refresh.lock';

/**
 * Collections and their manifest versions on disk:
 * `<root>/<db folder>/<collection folder>/{collection.json, CURRENT, refresh.lock, manifests/v000001.json …}`.
 * Version files and `CURRENT` are handled by {@link VersionStore}; the lock by `lock.ts`.
 */
export class ManifestStore {
  constructor(readonly root: string) {}

  /**
   * Directory of a collection. Names map to folders that fit every file system: a short all-lowercase
   * name is its own folder; any other (long, or with capitals that a case-insensitive file system would
   * fold) gets a short prefix plus a digest. A folder made under the plain name by an older lakemap is
   * still found.
   */
  dir(dbName: string, collectionName: string): string {
    const db = existingOr(this.root, folderName(dbName), dbName);
    return path.join(db, path.basename(existingOr(db, folderName(collectionName), collectionName)));
  }

  /** The version files and pointer of a collection. */
  versions(dbName: string, collectionName: string): VersionStore {
    return new VersionStore(this.root, this.dir(dbName, collectionName), `${dbName}.${collectionName}`);
  }

  /** Creates a collection; refuses an existing one. On failure nothing is left behind. */
  create(def: StoredCollection): StoredCollection {
    const dir = this.dir(def.dbName, def.collectionName);
    const made: string[] = [];
    const stored = { ...def, incarnation: randomUUID() };
    return rootIo(this.root, dir, 'create the collection folder', () => {
      try {
        if (!fs.existsSync(path.dirname(dir))) {
          fs.mkdirSync(path.dirname(dir), { recursive: true });
          made.push(path.dirname(dir));
        }
        try {
          fs.mkdirSync(dir);
          made.push(dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          if (fs.existsSync(path.join(dir, COLLECTION_FILE))) {
            throw new LakemapError('COLLECTION_EXISTS', `collection ${def.dbName}.${def.collectionName} already exists`);
          }
        }
        writeFileAtomic(path.join(dir, COLLECTION_FILE), JSON.stringify(stored, null, 2));
        return stored;
      } catch (e) {
        for (const d of made.reverse()) fs.rmSync(d, { recursive: true, force: true });
        throw e;
      }
    });
  }

  /** The stored definition, or undefined when there is none. */
  load(dbName: string, collectionName: string): StoredCollection | undefined {
    const file = path.join(this.dir(dbName, collectionName), COLLECTION_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw rootError(this.root, file, 'read', e);
    }
    const def = safeParse(text) as StoredCollection | undefined;
    if (!def || typeof def !== 'object' || def.collectionName !== collectionName || def.dbName !== dbName || !def.externalSpec) {
      throw new LakemapError('MANIFEST_CORRUPT', `${file} is not the definition of ${dbName}.${collectionName}: run "lakemap repair ${collectionName}"`, { path: file });
    }
    return def;
  }

  /** Rewrites a collection's definition (repair only). */
  saveDefinition(def: StoredCollection): void {
    const file = path.join(this.dir(def.dbName, def.collectionName), COLLECTION_FILE);
    rootIo(this.root, file, 'write', () => writeFileAtomic(file, JSON.stringify(def, null, 2)));
  }

  /** Names of the collections of a database, sorted. */
  list(dbName: string): string[] {
    const db = existingOr(this.root, folderName(dbName), dbName);
    let names: string[];
    try {
      names = fs.readdirSync(db);
    } catch {
      return [];
    }
    const out = new Set<string>();
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const text = readOr(path.join(db, n, COLLECTION_FILE));
      if (text === undefined) continue;
      const stored = (safeParse(text) as { collectionName?: unknown } | undefined)?.collectionName;
      out.add(typeof stored === 'string' ? stored : n);
    }
    return [...out].sort();
  }

  /** Takes a collection's lock (refresh, drop, repair); refused with `REFRESH_IN_PROGRESS` naming a live holder. */
  lock(dbName: string, collectionName: string, holder: Holder, jobId: string, purpose: string): CollectionLock {
    const file = path.join(this.dir(dbName, collectionName), LOCK_FILE);
    try {
      return rootIo(this.root, file, 'take the lock', () => acquireLock(file, holder, jobId, purpose, `collection ${dbName}.${collectionName}`));
    } catch (e) {
      // Dropped between the caller's check and the lock.
      if (LakemapError.is(e, 'ROOT_IO_ERROR') && !fs.existsSync(path.dirname(file))) {
        throw new LakemapError('COLLECTION_NOT_FOUND', `collection ${dbName}.${collectionName} does not exist`);
      }
      throw e;
    }
  }

  /**
   * Removes a collection under its lock (refused while another refresh holds it): one rename makes it
   * disappear, then its files are deleted.
   */
  drop(dbName: string, collectionName: string, holder: Holder): void {
    const dir = this.dir(dbName, collectionName);
    const lock = this.lock(dbName, collectionName, holder, '', 'drop');
    const trash = path.join(path.dirname(dir), `.dropped-${randomBytes(6).toString('hex')}`);
    try {
      rootIo(this.root, dir, 'drop', () => fs.renameSync(dir, trash));
    } catch (e) {
      lock.release();
      throw e;
    }
    fs.rmSync(trash, { recursive: true, force: true });
    lock.release(); // its file went with the folder; this forgets it
  }
}

/** Folder of a collection or database name: see {@link ManifestStore.dir}. */
export function folderName(name: string): string {
  if (/^[a-z0-9_]{1,64}$/.test(name)) return name;
  return `${name.slice(0, 40).toLowerCase()}~${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

function existingOr(parent: string, folder: string, legacy: string): string {
  const p = path.join(parent, folder);
  if (folder === legacy || fs.existsSync(p)) return p;
  const old = path.join(parent, legacy);
  try {
    if (fs.statSync(old).isDirectory()) return old;
  } catch {
    // no legacy folder (or a name too long to have ever been one)
  }
  return p;
}

/** Runs `fn`; an OS error it throws becomes `ROOT_IO_ERROR` naming `file` and the metadata root. */
export function rootIo<T>(root: string, file: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw LakemapError.is(e) ? e : rootError(root, file, action, e);
  }
}

/** {@link rootIo} for an async `fn`. */
export async function rootIoAsync<T>(root: string, file: string, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw LakemapError.is(e) ? e : rootError(root, file, action, e);
  }
}

/** A `ROOT_IO_ERROR` about `file` under the metadata root. */
export function rootError(root: string, file: string, action: string, cause: unknown): LakemapError {
  const c = cause as NodeJS.ErrnoException;
  return new LakemapError('ROOT_IO_ERROR', `cannot ${action} ${file} in the metadata root ${root}: ${c?.code ?? ''} ${c?.message ?? String(cause)}`.trim(), {
    path: file,
    cause,
  });
}

/**
 * Writes a file so that readers see the old content or the new one: temp file, fsync, rename, fsync dir.
 * `durable: false` skips the fsyncs (job records: losing one to a power cut only loses progress detail).
 */
export function writeFileAtomic(file: string, data: string, options: { durable?: boolean } = {}): void {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const tmp = tempName(file);
  if (durable) writeDurable(tmp, data);
  else fs.writeFileSync(tmp, data, { flag: 'wx' });
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) syncDir(dir);
}

/** A temporary name beside `file`, named after it (`.tmp-<name>-<pid>-<random>`): a killed writer's leftovers say what they were. */
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.tmp-${path.basename(file)}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Creates `file` (which must not exist) with `data` and fsyncs it. */
export function writeDurable(file: string, data: string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.closeSync(fd);
}

/** Makes a directory's entries durable, where the file system allows it. */
export function syncDir(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // some file systems refuse fsync on a directory; the rename itself is still atomic
  }
}

/** A file's text, undefined when it cannot be read. */
export function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** JSON.parse, undefined instead of a throw. */
export function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

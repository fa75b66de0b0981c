import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LakemapError } from '../errors.js';
import type { CollectionInfo, Manifest } from '../types.js';

/** The immutable part of a collection, written once at creation (the version lives in `CURRENT`). */
export type StoredCollection = Omit<CollectionInfo, 'manifestVersion'>;

const COLLECTION_FILE = 'collection.json';
const POINTER_FILE = 'CURRENT';
const LOCK_FILE = 'refresh.lock';
const MANIFEST_DIR = 'manifests';

/**
 * Collections and their manifest versions on disk:
 * `<root>/<db>/<collection>/{collection.json, CURRENT, manifests/v000001.json …}`.
 *
 * A commit writes the new version file under a name no reader follows yet, makes it durable, then
 * flips `CURRENT` with one atomic rename: a reader sees the old version or the new one, never a torn one.
 */
export class ManifestStore {
  constructor(readonly root: string) {}

  /** Directory of a collection (names were validated, so they are safe path parts). */
  dir(dbName: string, collectionName: string): string {
    return path.join(this.root, dbName, collectionName);
  }

  /** Creates a collection; refuses an existing one. */
  create(def: StoredCollection): void {
    const dir = this.dir(def.dbName, def.collectionName);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && fs.existsSync(path.join(dir, COLLECTION_FILE))) {
        throw new LakemapError('COLLECTION_EXISTS', `collection ${def.dbName}.${def.collectionName} already exists`);
      }
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    writeFileAtomic(path.join(dir, COLLECTION_FILE), JSON.stringify(def, null, 2));
  }

  /** The stored definition, or undefined. */
  load(dbName: string, collectionName: string): StoredCollection | undefined {
    const file = path.join(this.dir(dbName, collectionName), COLLECTION_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as StoredCollection;
    } catch (e) {
      throw new LakemapError('MANIFEST_CORRUPT', `${file} is not valid JSON`, { path: file, cause: e });
    }
  }

  /** Names of the collections of a database, sorted. */
  list(dbName: string): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.root, dbName));
    } catch {
      return [];
    }
    return names.filter((n) => fs.existsSync(path.join(this.root, dbName, n, COLLECTION_FILE))).sort();
  }

  /** Database directories under the root, sorted. */
  databases(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
  }

  /** Removes a collection: one rename makes it disappear, then its files are deleted. */
  drop(dbName: string, collectionName: string): void {
    const dir = this.dir(dbName, collectionName);
    const trash = path.join(this.root, dbName, `.dropped-${collectionName}-${randomBytes(4).toString('hex')}`);
    fs.renameSync(dir, trash);
    fs.rmSync(trash, { recursive: true, force: true });
  }

  /** The committed current version, 0 when none. */
  currentVersion(dbName: string, collectionName: string): number {
    const file = path.join(this.dir(dbName, collectionName), POINTER_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return 0;
    }
    const v = (safeParse(text) as { version?: unknown } | undefined)?.version;
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw new LakemapError('MANIFEST_CORRUPT', `${file} does not hold a manifest version`, { path: file });
    }
    return v as number;
  }

  /** Reads a committed manifest version (default: the current one). */
  read(dbName: string, collectionName: string, version?: number): Manifest {
    const current = this.currentVersion(dbName, collectionName);
    const name = `${dbName}.${collectionName}`;
    if (current === 0) throw new LakemapError('MANIFEST_NOT_FOUND', `collection ${name} has no manifest yet: refresh it first`);
    const v = version ?? current;
    const file = this.versionFile(dbName, collectionName, v);
    if (!Number.isSafeInteger(v) || v < 1 || v > current || !fs.existsSync(file)) {
      throw new LakemapError('MANIFEST_NOT_FOUND', `collection ${name} has no manifest version ${v}; kept: ${this.versions(dbName, collectionName).join(', ')}`);
    }
    const manifest = safeParse(fs.readFileSync(file, 'utf8')) as Manifest | undefined;
    if (!manifest || manifest.manifestFormat !== 1 || manifest.version !== v) {
      throw new LakemapError('MANIFEST_CORRUPT', `${file} is not a lakemap manifest of version ${v}`, { path: file });
    }
    return manifest;
  }

  /** Committed versions still on disk, ascending. */
  versions(dbName: string, collectionName: string): number[] {
    const current = this.currentVersion(dbName, collectionName);
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.dir(dbName, collectionName), MANIFEST_DIR));
    } catch {
      return [];
    }
    return names
      .map((n) => /^v(\d+)\.json$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((v) => v <= current)
      .sort((a, b) => a - b);
  }

  /**
   * Commits `manifest` as the next version: version file first (durable), then the pointer flip.
   * Versions older than the newest `keep` are deleted afterwards.
   */
  commit(manifest: Manifest, keep: number): void {
    const { dbName, collectionName, version } = manifest;
    const dir = this.dir(dbName, collectionName);
    fs.mkdirSync(path.join(dir, MANIFEST_DIR), { recursive: true });
    writeFileAtomic(this.versionFile(dbName, collectionName, version), JSON.stringify(manifest));
    writeFileAtomic(path.join(dir, POINTER_FILE), JSON.stringify({ version }));
    for (const v of this.versions(dbName, collectionName)) {
      if (v <= version - keep) fs.rmSync(this.versionFile(dbName, collectionName, v), { force: true });
    }
  }

  /**
   * Takes the collection's refresh lock, shared with other processes using the same root. A lock left
   * by a process that no longer runs is taken over. Also clears temporary files a killed commit left.
   */
  lock(dbName: string, collectionName: string, jobId: string): () => void {
    const dir = this.dir(dbName, collectionName);
    const file = path.join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify({ pid: process.pid, jobId }), { flag: 'wx' });
        clearTemporaries(dir);
        return () => fs.rmSync(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = safeParse(readOr(file)) as { pid?: number; jobId?: string } | undefined;
        if (holder?.pid !== undefined && holder.pid !== process.pid && isAlive(holder.pid)) {
          throw new LakemapError(
            'REFRESH_IN_PROGRESS',
            `collection ${dbName}.${collectionName} is being refreshed by process ${holder.pid} (job ${holder.jobId})`,
          );
        }
        fs.rmSync(file, { force: true }); // stale: its process is gone
      }
    }
    throw new LakemapError('REFRESH_IN_PROGRESS', `could not take the refresh lock of ${dbName}.${collectionName}`);
  }

  private versionFile(dbName: string, collectionName: string, version: number): string {
    return path.join(this.dir(dbName, collectionName), MANIFEST_DIR, `v${String(version).padStart(6, '0')}.json`);
  }
}

/** Writes a file so that readers see the old content or the new one: temp file, fsync, rename, fsync dir. */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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

function clearTemporaries(dir: string): void {
  for (const d of [dir, path.join(dir, MANIFEST_DIR)]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith('.tmp-')) fs.rmSync(path.join(d, n), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Opens the Lance dataset a manifest mapped, at the version it mapped, for reading rows through
 * `@lancedb/lancedb` (an optional peer, loaded lazily).
 *
 * lancedb's `connect(dir)` writes a `__manifest` namespace table into `dir`, so it never points at
 * the user's lake: it points at a private temporary directory holding one symlink `t.lance` → the
 * dataset, and the table is checked out at the pinned version (a read-only view). Before that, the
 * pinned version's manifest is read with the scanner's own reader and its fragments are compared with
 * the collection manifest's entries: a dataset that moved, lost that version (cleaned up) or is not
 * the one mapped fails with a reason naming the path, never returns other rows.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as LanceDb from '@lancedb/lancedb';
import { LakemapError } from '../errors.js';
import { LocalStorage } from '../storage/local.js';
import type { Manifest, ManifestFile } from '../types.js';
import { fragmentFingerprint } from '../../scanners/lance/fragments.js';
import { readManifestFile } from '../../scanners/lance/manifest-file.js';
import { listVersions } from '../../scanners/lance/versions.js';

type LanceDbModule = typeof LanceDb;

/** The package and the exact version lakemap is tested with. */
export const LANCEDB_PACKAGE = '@lancedb/lancedb';
const LANCEDB_VERSION = '0.31.0';

/**
 * Loads lancedb (Node caches the import); `MISSING_DEPENDENCY` naming the package when it is not
 * installed. `importer` stands in for `import()` in tests.
 */
export async function loadLanceDb(importer: (pkg: string) => Promise<unknown> = (pkg) => import(pkg)): Promise<LanceDbModule> {
  try {
    return (await importer(LANCEDB_PACKAGE)) as LanceDbModule;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new LakemapError(
        'MISSING_DEPENDENCY',
        `reading lance-table rows needs the optional package ${LANCEDB_PACKAGE}: run npm install ${LANCEDB_PACKAGE}@${LANCEDB_VERSION}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** A fragment of the pinned version: its manifest entry and the live rows of the fragments before it. */
export interface PinnedFragment {
  /** The collection manifest's entry of the fragment. */
  file: ManifestFile;
  /** Live rows of all fragments before it in the dataset version (the scan offset of its first row). */
  liveRowsBefore: number;
  /** Lance fragment id (the high 32 bits of its rows' `_rowaddr`). */
  fragmentId: bigint;
  /** True when another fragment of the version has the same id (Lance 0.16), so `_rowaddr` is ambiguous. */
  sharedId: boolean;
}

/** The dataset directory of a lance-table manifest, refusing object-store sources. */
export function lanceDatasetDir(manifest: Manifest): string {
  const src = manifest.resolvedSource;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) && !src.startsWith('file://')) {
    throw new LakemapError('UNSUPPORTED', `${src}: reading lance rows from ${src.split('://')[0]}:// sources is not supported yet (local and mounted sources only)`, { path: src });
  }
  const dir = src.startsWith('file://') ? new URL(src).pathname : src;
  if (!fs.existsSync(dir)) {
    throw new LakemapError('NOT_FOUND', `Lance dataset ${dir} (mapped by manifest version ${manifest.version}) is gone: was it moved or deleted? Point the collection at its new place and refresh`, { path: dir });
  }
  return dir;
}

/**
 * The fragments of the pinned dataset version, checked against the manifest's entries: same
 * fragments (data files and deletion file) in the same order, or `SOURCE_CHANGED`.
 */
export async function pinnedFragments(manifest: Manifest, dir: string): Promise<Map<string, PinnedFragment>> {
  const version = Number(manifest.tableVersion);
  const storage = new LocalStorage(dir);
  const found = await listVersions(storage);
  const loc = found.versions.find((v) => v.version === version);
  if (!loc) {
    const have = found.versions.map((v) => v.version);
    throw new LakemapError(
      'SOURCE_CHANGED',
      `Lance dataset ${dir} no longer has version ${version}, which manifest version ${manifest.version} mapped (` +
        `${have.length ? `it has ${have.length > 10 ? `${have.slice(0, 5).join(', ')}, …, ${have.slice(-3).join(', ')}` : have.join(', ')}` : 'it has no versions'}` +
        '; old versions are removed by cleanup_old_versions): refresh the collection',
      { path: dir },
    );
  }
  const lance = await readManifestFile(storage, loc.path, loc.size);
  const byFingerprint = new Map(manifest.files.map((f) => [f.fingerprint, f]));
  const out = new Map<string, PinnedFragment>();
  let before = 0;
  const ids = new Map<string, number>();
  for (const frag of lance.fragments) ids.set(frag.id, (ids.get(frag.id) ?? 0) + 1);
  for (const frag of lance.fragments) {
    const file = byFingerprint.get(fragmentFingerprint(frag));
    if (!file) {
      throw new LakemapError(
        'SOURCE_CHANGED',
        `${dir}: fragment ${frag.id} of version ${version} is not the one manifest version ${manifest.version} mapped (was the dataset replaced?): refresh the collection`,
        { path: dir },
      );
    }
    out.set(file.path, { file, liveRowsBefore: before, fragmentId: BigInt(frag.id), sharedId: ids.get(frag.id)! > 1 });
    before += file.liveRows;
  }
  if (out.size !== manifest.files.length) {
    throw new LakemapError('SOURCE_CHANGED', `${dir}: version ${version} holds ${lance.fragments.length} fragments, manifest version ${manifest.version} mapped ${manifest.files.length}: refresh the collection`, { path: dir });
  }
  return out;
}

/** A lancedb table opened from a private temporary directory; `close()` removes that directory. */
export interface OpenedLanceTable {
  /** The table, checked out at the pinned version. */
  table: LanceDb.Table;
  /** Closes the table and connection and removes the temporary directory. */
  close(): void;
}

/** Opens `dir` with lancedb at `version`, connecting to a fresh temporary directory only. */
export async function openLanceTable(lancedb: LanceDbModule, dir: string, version: number): Promise<OpenedLanceTable> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-read-'));
  const link = path.join(tmp, 't.lance');
  let db: LanceDb.Connection | undefined;
  let table: LanceDb.Table | undefined;
  const close = (): void => {
    try {
      table?.close();
    } catch {
      /* already closed */
    }
    try {
      db?.close();
    } catch {
      /* already closed */
    }
    // the link first, on its own: removing the directory must never reach into the dataset
    fs.rmSync(link, { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    fs.symlinkSync(fs.realpathSync(dir), link, 'dir');
    db = await lancedb.connect(tmp);
    table = await db.openTable('t');
    await table.checkout(version);
  } catch (e) {
    close();
    if (e instanceof LakemapError) throw e;
    throw new LakemapError('UNSUPPORTED', `${dir}: lancedb ${LANCEDB_VERSION} cannot open version ${version} of this dataset: ${(e as Error).message}`, { path: dir, cause: e });
  }
  return { table, close };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LakemapError } from '../errors.js';
import type { Holder } from '../manifest/lock.js';
import type { ManifestStore, StoredCollection } from '../manifest/store.js';
import type { VersionStore } from '../manifest/versions.js';
import type { PreviousIndex } from '../manifest/file-index.js';
import type { FileIndexCache } from '../manifest/file-index-cache.js';
import type { Manifest, RepairReport } from '../types.js';

/** Where a refresh starts, read under the collection's lock. */
export interface StartingPoint {
  /** The version `CURRENT` names (0: none); the new one will be this + 1. */
  version: number;
  /** The current manifest, validated, when it may be reused. */
  previous?: Manifest;
  /** What the job and the new manifest should say about the state found. */
  warnings: string[];
  /**
   * Instead of `previous`, for a chunked version not in memory: its validated file index (enough to
   * find that nothing changed) and how to load and validate the whole manifest when something did.
   */
  index?: PreviousIndex;
  loadPrevious?: () => { manifest?: Manifest; warning?: string };
}

/**
 * Reads a collection's state for a refresh, under its lock: the pointer (recovering a missing `CURRENT`
 * from the newest intact version file), version files a crashed commit left (set aside), and the
 * current manifest, which is reused only if it validates.
 */
export function startingPoint(
  versions: VersionStore,
  cached: { manifest: Manifest; incarnation: string | undefined } | undefined,
  incarnation: string | undefined,
  indexes?: { cache: FileIndexCache; key: string },
): StartingPoint {
  const warnings: string[] = [];
  const pointer = versions.pointer();
  if (pointer.recovered) {
    versions.setPointer(pointer.version);
    warnings.push(`${versions.pointerFile} was missing: re-pointed it at version ${pointer.version}, the newest intact version file`);
  }
  const aside = versions.setAsideUncommitted(pointer.version);
  if (aside.length) warnings.push(`set aside ${aside.join(', ')}: written by a commit that never completed`);
  if (pointer.version === 0) return { version: 0, warnings };
  if (cached && cached.incarnation === incarnation && cached.manifest.version === pointer.version) {
    return { version: pointer.version, previous: cached.manifest, warnings };
  }
  const load = (): { manifest?: Manifest; warning?: string } => {
    const { manifest, problems } = versions.load(pointer.version);
    if (manifest) return { manifest };
    return {
      warning: `manifest version ${pointer.version} (${versions.file(pointer.version)}) is invalid and was not reused; every file was read again: ${problems.slice(0, 3).join('; ')}`,
    };
  };
  // A chunked version: its file index alone decides a no-change refresh; the rest loads when needed.
  const loadIndex = (): PreviousIndex | undefined => versions.fileIndex(pointer.version, indexes?.cache.chunks(indexes.key));
  const index = indexes ? indexes.cache.get(indexes.key, versions.file(pointer.version), loadIndex) : loadIndex();
  if (index) return { version: pointer.version, index, loadPrevious: load, warnings };
  const { manifest, warning } = load();
  if (warning) warnings.push(warning);
  return { version: pointer.version, ...(manifest ? { previous: manifest } : {}), warnings };
}

/** See {@link RefreshEngine.repairCollection}. */
export function repairCollection(store: ManifestStore, holder: Holder, dbName: string, collectionName: string): RepairReport {
  const dir = store.dir(dbName, collectionName);
  if (!fs.existsSync(dir)) throw new LakemapError('COLLECTION_NOT_FOUND', `collection ${dbName}.${collectionName} does not exist`);
  const lock = store.lock(dbName, collectionName, holder, '', 'repair');
  try {
    return repairLocked(store, store.versions(dbName, collectionName), dbName, collectionName);
  } finally {
    lock.release();
  }
}

function repairLocked(store: ManifestStore, versions: VersionStore, dbName: string, collectionName: string): RepairReport {
  const found: string[] = [];
  const actions: string[] = [];
  const versionFiles = versions
    .onDisk()
    .reverse()
    .map((version) => ({ version, problems: versions.load(version).problems }));
  const valid = new Map<number, Manifest>();
  for (const v of versionFiles) {
    if (v.problems.length === 0) valid.set(v.version, versions.load(v.version).manifest!);
    else found.push(`${versions.file(v.version)} is invalid: ${v.problems.slice(0, 3).join('; ')}`);
  }
  const newest = versionFiles.find((v) => valid.has(v.version))?.version ?? 0;

  // What CURRENT says, if anything.
  let named: number | undefined;
  let absent = false; // no CURRENT at all: right for a collection with no version to point at
  try {
    const text = fs.readFileSync(versions.pointerFile, 'utf8');
    const v = (JSON.parse(text) as { version?: unknown })?.version;
    if (Number.isSafeInteger(v) && (v as number) >= 1) named = v as number;
    else found.push(`${versions.pointerFile} does not hold a version`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      absent = true;
      if (versionFiles.length) found.push(`${versions.pointerFile} is missing`);
    } else if (code) {
      found.push(`${versions.pointerFile} cannot be read (${code})`);
      const aside = `${versions.pointerFile}.unreadable-${Date.now()}`;
      fs.renameSync(versions.pointerFile, aside);
      actions.push(`moved the unreadable ${versions.pointerFile} to ${aside}`);
    } else found.push(`${versions.pointerFile} is not valid JSON`);
  }
  let target = named !== undefined && valid.has(named) ? named : newest;
  if (named !== undefined && !valid.has(named)) found.push(`CURRENT names version ${named}, which is ${versionFiles.some((v) => v.version === named) ? 'invalid' : 'missing'}`);
  if (named !== undefined && valid.has(named)) {
    // Valid files above a sound CURRENT were never committed: the next refresh sets them aside.
    target = named;
  }
  for (const v of versionFiles) {
    if (valid.has(v.version)) continue;
    const aside = versions.quarantine(v.version);
    actions.push(`set invalid version ${v.version} aside as ${path.basename(aside)}`);
  }
  if (target !== named && !(absent && target === 0)) {
    versions.setPointer(target);
    actions.push(target === 0 ? `removed CURRENT: no version file is intact, the next refresh starts at version 1` : `pointed CURRENT at version ${target}`);
  }

  // The definition: rebuilt from the newest valid manifest when it is garbled or missing.
  let def: StoredCollection | undefined;
  let defProblem: string | undefined;
  try {
    def = store.load(dbName, collectionName);
    if (!def) defProblem = 'is missing';
  } catch (e) {
    if (!LakemapError.is(e, 'MANIFEST_CORRUPT')) throw e;
    defProblem = 'is garbled';
  }
  if (defProblem) {
    const file = path.join(store.dir(dbName, collectionName), 'collection.json');
    found.push(`${file} ${defProblem}`);
    const from = valid.get(target) ?? valid.get(newest);
    if (!from) {
      throw new LakemapError(
        'MANIFEST_CORRUPT',
        `${file} ${defProblem} and no valid manifest remains to rebuild it from: drop the collection and create it again`,
        { path: file },
      );
    }
    const oldest = [...valid.values()].reduce((a, m) => Math.min(a, m.createdAt), from.createdAt);
    store.saveDefinition({
      collectionName,
      dbName,
      externalSource: from.externalSource,
      externalSpec: from.externalSpec,
      fields: from.fields,
      createdAt: oldest,
      incarnation: randomUUID(),
    });
    actions.push(`rebuilt ${path.basename(file)} from manifest version ${from.version}`);
  }
  return { collectionName, dbName, found, actions, versionFiles, version: target };
}

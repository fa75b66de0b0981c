/**
 * The `lance-table` scanner: maps one version of a Lance dataset directory (`_versions/`, `data/`,
 * `_deletions/` …) by reading its manifest. Each fragment becomes one entry with one unit.
 *
 * @module
 */
import { LakemapError, corruptFile } from '../../src/scanner.js';
import type { ExternalSpec, JsonObject, SnapshotContext, SourceStorage, TableEntry, TableScanner, TableSnapshot, UnchangedContext } from '../../src/scanner.js';
import { fragmentEntry, fragmentFingerprint } from './fragments.js';
import type { FragmentReadPolicy } from './fragments.js';
import { decodeManifestMessage, manifestDigest, readManifestMessage } from './manifest-file.js';
import { lanceSchemaToArrow } from './schema.js';
import type { LanceFragment, LanceManifest } from './types.js';
import { describeVersions, listVersions, manifestNames, pickVersion } from './versions.js';

/** Reader feature flags this scanner understands (`rust/lance-table/src/feature_flags.rs`): deletion
 * files, stable row ids, the deprecated v2 marker, table config, base paths, no transaction file. */
const KNOWN_READER_FLAGS = 1 | 2 | 4 | 8 | 16 | 32;

/** Fragments whose files are read at once when a manifest lacks counts. */
const READ_CONCURRENCY = 16;

/**
 * Scanner for Lance datasets (`format: 'lance-table'`).
 *
 * Spec keys: `version` (optional, a dataset version number; default the newest).
 *
 * @example
 * ```ts
 * const engine = new RefreshEngine({ root: '.lakemap', scanners: [lanceScanner] });
 * await engine.createCollection({
 *   collectionName: 'docs', externalSource: '/data/docs.lance',
 *   externalSpec: { format: 'lance-table', version: 3 },
 * });
 * ```
 */
export const lanceScanner: TableScanner = {
  kind: 'table',
  format: 'lance-table',
  validateSpec(spec: ExternalSpec): void {
    specVersion(spec);
  },
  snapshot: snapshotLanceTable,
  unchanged: lanceUnchanged,
};

/** Reads the `version` spec key: undefined, or a positive integer (a decimal string is accepted). */
function specVersion(spec: ExternalSpec): number | undefined {
  const v = spec['version'];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new LakemapError('INVALID_SPEC', `lance-table spec key "version" must be a positive integer dataset version, got ${JSON.stringify(v)}`);
  }
  return n;
}

async function snapshotLanceTable(source: SourceStorage, ctx: SnapshotContext): Promise<TableSnapshot> {
  const wanted = specVersion(ctx.spec);
  const found = await listVersions(source);
  const loc = pickVersion(found, source.root, wanted);
  const message = await readManifestMessage(source, loc.path, loc.size);
  const manifest = decodeManifestMessage(loc.path, message);
  const warnings = found.skipped.map((p) => `${p} is not a version of the table (detached, staging or misnamed) and was skipped`);

  let version = loc.version;
  if (loc.naming === 'latest-manifest') {
    version = manifest.version;
    if (wanted !== undefined && wanted !== version) {
      throw new LakemapError('VERSION_NOT_FOUND', `Lance dataset ${source.root} has no version ${wanted}; available: ${describeVersions([version])}`, {
        path: source.root,
      });
    }
  } else if (manifest.version !== loc.version) {
    warnings.push(`${loc.path} holds version ${manifest.version} although its name says ${loc.version}; the name is used`);
  }
  checkReaderFlags(loc.path, manifest);

  let mapped;
  try {
    mapped = lanceSchemaToArrow(manifest.fields, manifest.schemaMetadata);
  } catch (e) {
    throw corruptFile(loc.path, `schema cannot be read: ${(e as Error).message}`, e);
  }
  warnings.push(...mapped.warnings);

  const policy: FragmentReadPolicy = { distrustCounts: manifest.writerVersion === null && manifest.fragments.length > 0, manifestPath: loc.path };
  if (policy.distrustCounts) {
    warnings.push(
      `${loc.path} records no writer version (Lance before 0.8.1), whose fragment counts Lance itself does not trust; ` +
        'physical and deleted rows were read from the data and deletion files',
    );
  }
  const entries = await fragmentEntries(source, manifest, policy, ctx);
  warnings.push(...fragmentWarnings(manifest.fragments));

  let physical = 0;
  let live = 0;
  for (const e of entries) {
    physical += e.rows;
    live += e.liveRows ?? e.rows;
  }
  if (!Number.isSafeInteger(physical)) throw corruptFile(loc.path, `fragments add up to ${physical} rows, beyond any real table`);

  const details: JsonObject = {
    version,
    manifestPath: loc.path,
    manifestNaming: loc.naming,
    manifestSha256: manifestDigest(message),
    writerVersion: manifest.writerVersion ? { ...manifest.writerVersion } : null,
    dataFormat: manifest.dataFormat ? { ...manifest.dataFormat } : null,
    timestamp: isoTime(manifest.timestampMs),
    fragmentCount: entries.length,
    physicalRows: physical,
    deletedRows: physical - live,
    liveRows: live,
    countsRecomputed: policy.distrustCounts,
  };
  if (manifest.tag !== '') details['tag'] = manifest.tag;
  if (manifest.branch !== null) details['branch'] = manifest.branch;
  const snapshot: TableSnapshot = { tableVersion: String(version), schema: mapped.schema, entries, details };
  if (warnings.length > 0) snapshot.warnings = warnings;
  return snapshot;
}

/**
 * True when the dataset is still at the version the previous snapshot mapped, from that very
 * manifest: its manifest is still there under the same name with the digest recorded then, and
 * (unless the spec pins that version) no manifest of the next version exists under either naming.
 * Lance numbers versions without gaps (version N + 1 is created, put-if-not-exists, only over N;
 * cleanup removes old versions, never the newest), so the newest is still the one mapped; and it never
 * rewrites a version's manifest nor the files it lists, so the snapshot would be the same. This costs
 * three stats and one manifest read, without listing `_versions/` (10,000 versions: most of the time
 * lancedb's own open takes) or decoding the manifest. `_latest.manifest` (rewritten in place by old
 * writers), recomputed counts and snapshots without a digest always answer false.
 */
async function lanceUnchanged(source: SourceStorage, ctx: UnchangedContext): Promise<boolean> {
  const d = ctx.previous.details;
  if (!d || d['countsRecomputed'] !== false || typeof d['manifestPath'] !== 'string' || typeof d['manifestSha256'] !== 'string') return false;
  const naming = d['manifestNaming'];
  const version = Number(ctx.previous.tableVersion);
  if ((naming !== 'v1' && naming !== 'v2') || !Number.isSafeInteger(version) || version < 1 || d['version'] !== version) return false;
  const wanted = specVersion(ctx.spec);
  if (wanted !== undefined && wanted !== version) return false;
  const names = manifestNames(version);
  if (d['manifestPath'] !== names[naming]) return false;
  // The V2 name wins when both exist (a dataset migrating to V2 names): one appearing is a change.
  if (naming === 'v1' && (await source.stat(names.v2))) return false;
  if (wanted === undefined) {
    const next = manifestNames(version + 1);
    if ((await source.stat(next.v2)) || (await source.stat(next.v1))) return false;
  }
  const st = await source.stat(names[naming]);
  if (!st) return false;
  return manifestDigest(await readManifestMessage(source, st.path, st.size)) === d['manifestSha256'];
}

/** ISO time of an epoch-ms value, or null when absent or outside what a Date can hold. */
function isoTime(ms: number | null): string | null {
  return ms !== null && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

function checkReaderFlags(path: string, manifest: LanceManifest): void {
  const unknown = manifest.readerFeatureFlags & ~KNOWN_READER_FLAGS;
  if (unknown !== 0 || manifest.readerFeatureFlags >= 2 ** 31) {
    throw new LakemapError(
      'UNSUPPORTED',
      `${path}: the dataset needs reader features lakemap does not know (reader flags ${manifest.readerFeatureFlags}); it was written by a newer Lance`,
      { path },
    );
  }
}

/** Entries of all fragments in manifest order; fragments needing file reads are read a few at a time. */
async function fragmentEntries(source: SourceStorage, manifest: LanceManifest, policy: FragmentReadPolicy, ctx: SnapshotContext): Promise<TableEntry[]> {
  const frags = manifest.fragments;
  const out = new Array<TableEntry>(frags.length);
  let done = 0;
  let next = 0;
  const previous = ctx.previous?.entries;
  const worker = async (): Promise<void> => {
    while (next < frags.length) {
      if (ctx.signal.aborted) throw new LakemapError('CANCELLED', 'refresh cancelled while reading Lance fragments');
      const i = next++;
      const frag = frags[i]!;
      const reused = needsFileReads(frag, policy) ? previous?.get(fragmentFingerprint(frag)) : undefined;
      out[i] = reused ?? (await fragmentEntry(source, frag, policy));
      ctx.progress(++done, frags.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, frags.length) }, worker));
  return out;
}

/**
 * Oddities of old writers that Lance still reads, and so does lakemap: a fragment id used twice
 * (Lance 0.16 mixing data file versions) and field ids repeated across a fragment's data files
 * (add/drop columns before 0.11). Row counts are unaffected; each fragment keeps its own entry.
 */
function fragmentWarnings(frags: LanceFragment[]): string[] {
  const warnings: string[] = [];
  const seen = new Set<string>();
  const repeatedIds = new Set<string>();
  const overlapping: string[] = [];
  for (const f of frags) {
    if (seen.has(f.id)) repeatedIds.add(f.id);
    seen.add(f.id);
    const fieldIds = new Set<number>();
    let overlap = false;
    for (const file of f.files) {
      for (const id of file.fields) {
        if (id < 0) continue;
        if (fieldIds.has(id)) overlap = true;
        fieldIds.add(id);
      }
    }
    if (overlap) overlapping.push(f.id);
  }
  if (repeatedIds.size > 0) {
    warnings.push(
      `fragment ids ${[...repeatedIds].join(', ')} are used by more than one fragment (a bug of Lance 0.16), so Lance row addresses ` +
        'of those fragments are ambiguous; each fragment is mapped as its own entry',
    );
  }
  if (overlapping.length > 0) {
    warnings.push(
      `fragments ${overlapping.slice(0, 10).join(', ')}${overlapping.length > 10 ? ', …' : ''} store the same field id in more than one ` +
        'data file (a bug of old Lance add/drop columns); row counts are unaffected',
    );
  }
  return warnings;
}

/** True when the manifest alone cannot give this fragment's counts and sizes. */
function needsFileReads(frag: LanceFragment, policy: FragmentReadPolicy): boolean {
  return (
    policy.distrustCounts ||
    frag.physicalRows === 0 ||
    (frag.deletionFile !== null && frag.deletionFile.numDeletedRows === 0) ||
    frag.files.some((f) => f.fileSizeBytes === 0)
  );
}

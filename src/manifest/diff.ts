/**
 * What changed between two manifest versions, in the detail a consumer needs to update its own index
 * incrementally: paths of files added, removed and modified; segments added (with their ranges, to
 * load them) and removed (ids, to drop them).
 *
 * @module
 */
import type { Manifest, Segment } from '../types.js';

/** The result of {@link diffManifests}. */
export interface ManifestDiff {
  /** Version diffed from. */
  fromVersion: number;
  /** Version diffed to. */
  toVersion: number;
  /** Files by what happened to them between the two versions (paths in the `to` version's order). */
  files: {
    /** Paths only in `to`. */
    added: string[];
    /** Paths only in `from`. */
    removed: string[];
    /** Paths in both whose fingerprint changed. */
    modified: string[];
    /** Paths in both with the same fingerprint. */
    kept: number;
  };
  /** Segments by id. */
  segments: {
    /** Segments of `to` whose id `from` does not have. */
    added: Segment[];
    /** Ids of `from` that `to` no longer has. */
    removed: string[];
    /** Ids in both. */
    kept: number;
  };
}

/**
 * Diffs two manifests (of the same collection, usually versions `a < b`). Linear in their sizes.
 *
 * @example
 * ```ts
 * import { diffManifests } from 'lakemap';
 * const v3 = await engine.getManifest({ collectionName: 'trips', version: 3 });
 * const v7 = await engine.getManifest({ collectionName: 'trips', version: 7 });
 * const d = diffManifests(v3, v7);
 * for (const s of d.segments.added) console.log('load', s.id, s.ranges[0]);
 * for (const id of d.segments.removed) console.log('drop', id);
 * ```
 */
export function diffManifests(from: Manifest, to: Manifest): ManifestDiff {
  const before = new Map(from.files.map((f) => [f.path, f.fingerprint]));
  const out: ManifestDiff = {
    fromVersion: from.version,
    toVersion: to.version,
    files: { added: [], removed: [], modified: [], kept: 0 },
    segments: { added: [], removed: [], kept: 0 },
  };
  for (const f of to.files) {
    const fp = before.get(f.path);
    if (fp === undefined) out.files.added.push(f.path);
    else if (fp !== f.fingerprint) out.files.modified.push(f.path);
    else out.files.kept++;
    before.delete(f.path);
  }
  out.files.removed = [...before.keys()];
  const oldIds = new Set(from.segments.map((s) => s.id));
  for (const s of to.segments) {
    if (oldIds.delete(s.id)) out.segments.kept++;
    else out.segments.added.push(s);
  }
  out.segments.removed = [...oldIds];
  return out;
}

/** Diffs versions `from` and `to` of one collection, read through `read` (the engine's store). */
export function diffManifestVersions(read: (version: number) => Manifest, from: number, to: number): ManifestDiff {
  return diffManifests(read(from), read(to));
}

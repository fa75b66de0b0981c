/**
 * Finds the manifests of a Lance dataset and picks the version to map.
 *
 * Lance has named manifests two ways (`rust/lance-table/src/io/commit.rs`, ManifestNamingScheme):
 * - V1, old datasets: `_versions/{N}.manifest`;
 * - V2, current writers: `_versions/{u64::MAX - N, 20 digits}.manifest`, so the newest sorts first.
 * Old writers also kept a copy of the newest manifest at `_latest.manifest`; it and
 * `_versions/latest_version_hint.json` are hints only, so the version list is always taken from
 * the file names. Detached versions (`d{N}.manifest`) and staging files are not versions of the table.
 *
 * @module
 */
import { LakemapError } from '../../src/scanner.js';
import type { SourceStorage } from '../../src/scanner.js';

/** Which naming scheme a manifest file uses. */
export type ManifestNaming = 'v1' | 'v2' | 'latest-manifest';

/** Where one version's manifest lives. */
export interface VersionLocation {
  /** Version number; 0 when only `_latest.manifest` exists (its number is inside the file). */
  version: number;
  /** Manifest path relative to the dataset root. */
  path: string;
  /** Naming scheme of that path. */
  naming: ManifestNaming;
  /** Manifest size in bytes, when the listing gave it (names-only listings do not: the manifest read stats it). */
  size?: number;
}

/** The versions a dataset holds, newest last. */
export interface DatasetVersions {
  /** Every attached version found under `_versions/`, ascending. */
  versions: VersionLocation[];
  /** `_latest.manifest`, when present (old writers). */
  latestManifest?: VersionLocation;
  /** Odd file names that were skipped, for warnings. */
  skipped: string[];
}

const U64_MAX = (1n << 64n) - 1n;
const V2_DIGITS = 20;
const MANIFEST_NAME = /^(\d+)\.manifest$/;

/**
 * Lists the manifests of the dataset at the root of `source`, by name only: a dataset with thousands of
 * versions is listed without a stat per file (the one manifest read is stat'ed when it is read).
 */
export async function listVersions(source: SourceStorage): Promise<DatasetVersions> {
  const files = await source.list('_versions', { stats: false });
  const byVersion = new Map<number, VersionLocation>();
  const skipped: string[] = [];
  for (const file of files) {
    const name = file.path.slice('_versions/'.length);
    if (name.includes('/')) continue; // nested folders are not manifests
    const m = MANIFEST_NAME.exec(name);
    if (!m) {
      if (name.endsWith('.manifest')) skipped.push(file.path);
      continue;
    }
    const digits = m[1]!;
    const naming: ManifestNaming = digits.length === V2_DIGITS ? 'v2' : 'v1';
    const version = versionOf(digits, naming);
    if (version === undefined) {
      skipped.push(file.path);
      continue;
    }
    const loc: VersionLocation = { version, path: file.path, naming };
    if (file.size >= 0) loc.size = file.size;
    const seen = byVersion.get(version);
    // The same version under both names happens mid-migration to V2 names; the V2 file is the live one.
    if (!seen || (seen.naming === 'v1' && naming === 'v2')) byVersion.set(version, loc);
  }
  const versions = [...byVersion.values()].sort((a, b) => a.version - b.version);
  const result: DatasetVersions = { versions, skipped };
  const latest = await source.stat('_latest.manifest');
  if (latest) result.latestManifest = { version: 0, path: latest.path, naming: 'latest-manifest', size: latest.size };
  return result;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Smallest V2 number whose version is a safe integer: u64::MAX − 2^53 + 1. */
const V2_MIN = U64_MAX - MAX_SAFE;

/** The version a file name's digits stand for, or undefined when it is 0 or beyond 2^53 − 1. */
function versionOf(digits: string, naming: ManifestNaming): number | undefined {
  if (naming === 'v1') {
    // Up to 15 digits is always a safe integer; longer V1 names go through BigInt.
    const v = digits.length <= 15 ? Number(digits) : BigInt(digits) > MAX_SAFE ? -1 : Number(digits);
    return v >= 1 ? v : undefined;
  }
  const n = BigInt(digits);
  if (n > U64_MAX - 1n || n < V2_MIN) return undefined;
  return Number(U64_MAX - n);
}

/** The two names a version's manifest can have: V1 (`_versions/{N}.manifest`) and V2 (`_versions/{u64::MAX - N}.manifest`). */
export function manifestNames(version: number): { v1: string; v2: string } {
  return { v1: `_versions/${version}.manifest`, v2: `_versions/${(U64_MAX - BigInt(version)).toString().padStart(V2_DIGITS, '0')}.manifest` };
}

/**
 * Picks the manifest of `wanted` (or the newest when undefined). Throws `NOT_FOUND` when the
 * directory holds no manifest at all and `VERSION_NOT_FOUND`, listing what exists, for a version
 * that is not there. When only `_latest.manifest` exists it is returned as is.
 */
export function pickVersion(found: DatasetVersions, root: string, wanted?: number): VersionLocation {
  const { versions, latestManifest } = found;
  if (versions.length === 0) {
    // Only the caller can check `wanted` here: the version number is inside `_latest.manifest`.
    if (latestManifest) return latestManifest;
    throw new LakemapError('NOT_FOUND', `${root} is not a Lance dataset: no _versions/*.manifest and no _latest.manifest`, {
      path: root,
    });
  }
  if (wanted === undefined) return versions[versions.length - 1]!;
  const hit = versions.find((v) => v.version === wanted);
  if (hit) return hit;
  throw new LakemapError(
    'VERSION_NOT_FOUND',
    `Lance dataset ${root} has no version ${wanted}; available: ${describeVersions(versions.map((v) => v.version))}`,
    { path: root },
  );
}

/** `1, 2, 3` or `1..40 (40 versions)` for long runs, so the message stays readable. */
export function describeVersions(nums: number[]): string {
  if (nums.length <= 20) return nums.join(', ');
  return `${nums.slice(0, 10).join(', ')}, …, ${nums.slice(-5).join(', ')} (${nums.length} versions)`;
}

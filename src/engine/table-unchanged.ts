/**
 * The no-change check of a table refresh. A file source is unchanged when its listing matches the
 * previous file index; a table knows its own version, so a scanner with `unchanged` (lance) is asked
 * whether the table still is the snapshot the previous version mapped: a demanding user's most
 * frequent refresh then costs a version listing instead of a snapshot, a build and a content hash.
 *
 * @module
 */
import { stableJson, type PreviousIndex } from '../manifest/file-index.js';
import { tableLocation } from '../storage/source.js';
import type { RefreshPlan } from './refresh.js';
import type { JsonObject, SourceStorage } from '../scanner.js';
import type { Manifest, RefreshChangeSet } from '../types.js';

/** What the check reads of the previous version: a whole manifest held in memory, or a chunked root's index. */
export type PreviousTable = Manifest | PreviousIndex;

/**
 * True when the previous version would be built again unchanged: the same spec, source, resolved
 * root and fields, nothing skipped, no warnings then or now, and the scanner vouching that the table
 * is at the same snapshot. Any doubt (or a scanner error) answers false and the refresh goes on.
 */
export async function tableUnchanged(plan: RefreshPlan, storage: SourceStorage, previous: PreviousTable | undefined): Promise<boolean> {
  const scanner = plan.scanner;
  if (scanner.kind !== 'table' || !scanner.unchanged || !previous) return false;
  const h = ('header' in previous ? previous.header : previous) as Partial<Manifest>;
  const def = plan.definition;
  if (plan.warnings.length > 0 || h.version !== plan.baseVersion || h.format !== def.externalSpec.format) return false;
  if (h.externalSource !== def.externalSource || h.resolvedSource !== storage.root || typeof h.tableVersion !== 'string') return false;
  if (!Array.isArray(h.skipped) || h.skipped.length > 0 || !Array.isArray(h.warnings) || h.warnings.length > 0) return false;
  if (def.externalSpec.verify === 'footer') return false;
  if (stableJson(h.externalSpec) !== stableJson(def.externalSpec) || stableJson(h.fields) !== stableJson(def.fields)) return false;
  const { tablePath } = tableLocation(plan.source, scanner);
  const details = h.details !== null && typeof h.details === 'object' ? (h.details as JsonObject) : undefined;
  try {
    const ctx = { ...(tablePath ? { tablePath } : {}), spec: def.externalSpec, signal: plan.job.controller.signal, previous: { tableVersion: h.tableVersion, details } };
    return (await scanner.unchanged(storage, ctx)) === true;
  } catch {
    return false;
  }
}

/** Files and segments of the previous version, all kept: the change set of a no-change refresh. */
export function keptAll(previous: PreviousTable): RefreshChangeSet {
  const files = 'header' in previous ? previous.paths.length : previous.files.length;
  const segments = 'header' in previous ? previous.segmentCount : previous.segments.length;
  return {
    files: { added: 0, removed: 0, modified: 0, unchanged: files },
    segments: { added: 0, removed: 0, kept: segments },
    addedPaths: [],
    removedPaths: [],
    modifiedPaths: [],
  };
}

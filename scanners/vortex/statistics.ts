/**
 * File statistics (`footer.fbs` table `FileStatistics`: one `ArrayStats` per top-level field, or one for
 * a non-struct root). Statistics are optional to a manifest, so a malformed or mismatched statistics
 * segment yields a warning and no statistics, not a failed refresh.
 */
import type { JsonObject } from '../../src/scanner.js';
import { topLevelFields, type VortexDType } from './dtype.js';
import { rootTable, type FlatTable } from './flatbuffer-reader.js';
import { INT64_KIND, UINT64_KIND, decodeScalar, scalarKind } from './scalar.js';

// Slots of `table ArrayStats` (vortex-array/array.fbs).
const MIN = 0, MIN_PRECISION = 1, MAX = 2, MAX_PRECISION = 3;
const IS_SORTED = 5, IS_STRICT_SORTED = 6, IS_CONSTANT = 7, NULL_COUNT = 8, UNCOMPRESSED_SIZE = 9, NAN_COUNT = 10;
/** `enum Precision { Inexact = 0, Exact = 1 }`. */
const EXACT = 1;

/** Per-field statistics keyed by top-level field name, or a warning saying why there are none. */
export type FieldStatsResult = { fieldStats: JsonObject; warnings?: string[] } | { warning: string };

/** Decodes the statistics segment against the file's root dtype. */
export function readFieldStats(bytes: Uint8Array, root: VortexDType): FieldStatsResult {
  try {
    const fb = rootTable(bytes, 'statistics segment', { maxDepth: 4, maxTables: 1_000_000 });
    const stats = fb.tableVector(0);
    const fields = topLevelFields(root);
    if (stats.length !== fields.length) {
      return { warning: `file statistics cover ${stats.length} fields but the dtype has ${fields.length}; statistics ignored` };
    }
    const fieldStats: JsonObject = {};
    const warnings: string[] = [];
    fields.forEach(({ name, dtype }, i) => {
      if (name in fieldStats) return;
      fieldStats[name] = arrayStats(stats[i]!, dtype);
      const disagreement = signednessDisagreement(stats[i]!, dtype);
      if (disagreement) warnings.push(`column ${name}: ${disagreement}`);
    });
    return warnings.length > 0 ? { fieldStats, warnings } : { fieldStats };
  } catch (e) {
    return { warning: `file statistics are malformed (${(e as Error).message}); statistics ignored` };
  }
}

/**
 * Vortex writes integer statistics as `int64_value` for signed ptypes and `uint64_value` for unsigned
 * ones. A min/max of the other kind means the dtype and the statistics disagree on signedness: the
 * dtype is still what the file declares (and what is mapped), but a person should know.
 */
function signednessDisagreement(t: FlatTable, dtype: VortexDType): string | undefined {
  if (dtype.kind !== 'primitive' || dtype.ptype.startsWith('f')) return undefined;
  const signed = dtype.ptype.startsWith('i');
  for (const slot of [MIN, MAX]) {
    const kind = scalarKind(t.bytesVector(slot));
    if ((signed && kind === UINT64_KIND) || (!signed && kind === INT64_KIND)) {
      return `the dtype says ${dtype.ptype} but the ${slot === MIN ? 'min' : 'max'} statistic is stored as a ${signed ? 'uint64' : 'int64'} scalar`;
    }
  }
  return undefined;
}

function arrayStats(t: FlatTable, dtype: VortexDType): JsonObject {
  const out: JsonObject = {};
  const min = t.bytesVector(MIN);
  const max = t.bytesVector(MAX);
  if (min) {
    const v = decodeScalar(min, dtype);
    if (v !== undefined) {
      out.min = v;
      out.minExact = t.u8(MIN_PRECISION) === EXACT;
    }
  }
  if (max) {
    const v = decodeScalar(max, dtype);
    if (v !== undefined) {
      out.max = v;
      out.maxExact = t.u8(MAX_PRECISION) === EXACT;
    }
  }
  const count = (slot: number, key: string): void => {
    const n = t.optionalU64(slot);
    if (n !== undefined) out[key] = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  };
  count(NULL_COUNT, 'nullCount');
  count(NAN_COUNT, 'nanCount');
  count(UNCOMPRESSED_SIZE, 'uncompressedBytes');
  const flag = (slot: number, key: string): void => {
    const b = t.optionalBool(slot);
    if (b !== undefined) out[key] = b;
  };
  flag(IS_SORTED, 'isSorted');
  flag(IS_STRICT_SORTED, 'isStrictSorted');
  flag(IS_CONSTANT, 'isConstant');
  return out;
}

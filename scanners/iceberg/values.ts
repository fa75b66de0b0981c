/**
 * Iceberg values as JSON-safe manifest values: column bounds (the spec's single-value binary
 * serialization) and partition tuples (as avsc decodes them). Dates and times become ISO strings,
 * decimals exact decimal strings, binary hex, int64 a number when safe else a decimal string.
 */
import type { JsonValue } from '../../src/scanner.js';
import type { PartitionField } from './types.js';

/** The safe-integer range as BigInt, made once (a BigInt per bound per call showed in profiles). */
export const MIN_SAFE_BIGINT = BigInt(Number.MIN_SAFE_INTEGER);
export const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** An int64 as a JSON value: a number when exact, else a decimal string. */
export function jsonInt64(v: bigint): number | string {
  return v >= MIN_SAFE_BIGINT && v <= MAX_SAFE_BIGINT ? Number(v) : v.toString();
}

function jsonFloat(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const pad = (n: number | bigint, w: number) => n.toString().padStart(w, '0');

/** Days of 0000-01-01 and 9999-12-31 since 1970-01-01: the years `toISOString` writes with 4 digits. */
const FIRST_4_DIGIT_DAY = -719_528;
const LAST_4_DIGIT_DAY = 2_932_896;

/**
 * Days since 1970-01-01 as `YYYY-MM-DD` (as `Date.toISOString` writes it). Years 0–9999 are computed
 * directly (H. Hinnant's civil-from-days; a Date and an ISO string per partition value were a tenth of
 * a snapshot's time); others go through Date, which writes them with a sign and 6 digits.
 */
export function formatDate(days: number): string {
  if (!Number.isInteger(days) || days < FIRST_4_DIGIT_DAY || days > LAST_4_DIGIT_DAY) {
    return new Date(days * 86_400_000).toISOString().slice(0, 10);
  }
  const z = days + 719_468; // days since 0000-03-01
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097; // day of the 400-year era
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100)); // from March 1st
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Microseconds (or nanoseconds, `digits` 9) since the epoch as an ISO timestamp; `Z` when zoned. */
function formatTimestamp(ticks: bigint, digits: 6 | 9, zoned: boolean): string {
  const perSecond = digits === 6 ? 1_000_000n : 1_000_000_000n;
  let seconds = ticks / perSecond;
  let frac = ticks % perSecond;
  if (frac < 0n) {
    frac += perSecond;
    seconds -= 1n;
  }
  const base = new Date(Number(seconds) * 1000);
  if (Number.isNaN(base.getTime())) return ticks.toString();
  return `${base.toISOString().slice(0, 19)}.${pad(frac, digits)}${zoned ? 'Z' : ''}`;
}

function formatTime(micros: bigint): string {
  const s = micros / 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}.${pad(micros % 1_000_000n, 6)}`;
}

/** An unscaled big-endian two's complement integer with `scale` as a decimal string. */
function formatDecimal(bytes: Uint8Array, scale: number): string {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes.length > 0 && bytes[0]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return formatUnscaled(v, scale);
}

function formatUnscaled(v: bigint, scale: number): string {
  if (scale <= 0) return (v * 10n ** BigInt(-scale)).toString();
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function formatUuid(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Decodes a lower/upper bound (Iceberg single-value serialization) of a column of primitive `type`.
 * Unknown or malformed values come back as hex rather than failing the scan: bounds are advisory.
 */
export function decodeBound(type: string, b: Uint8Array): JsonValue {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const int64 = () => (b.length === 4 ? BigInt(dv.getInt32(0, true)) : dv.getBigInt64(0, true)); // 4 bytes: promoted from int
  try {
    if (type === 'boolean' && b.length === 1) return b[0] !== 0;
    if ((type === 'int') && b.length === 4) return dv.getInt32(0, true);
    if (type === 'date' && b.length === 4) return formatDate(dv.getInt32(0, true));
    if (type === 'long' && (b.length === 8 || b.length === 4)) return jsonInt64(int64());
    if (type === 'float' && b.length === 4) return jsonFloat(dv.getFloat32(0, true));
    if (type === 'double' && (b.length === 8 || b.length === 4)) return jsonFloat(b.length === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true));
    if (type === 'time' && b.length === 8) return formatTime(int64());
    if ((type === 'timestamp' || type === 'timestamptz') && b.length === 8) return formatTimestamp(int64(), 6, type === 'timestamptz');
    if ((type === 'timestamp_ns' || type === 'timestamptz_ns') && b.length === 8) return formatTimestamp(int64(), 9, type === 'timestamptz_ns');
    if (type === 'string') return new TextDecoder().decode(b);
    if (type === 'uuid' && b.length === 16) return formatUuid(b);
    const dec = /^decimal\(\s*\d+\s*,\s*(-?\d+)\s*\)$/.exec(type);
    if (dec) return formatDecimal(b, Number(dec[1]));
  } catch {
    // fall through to hex
  }
  return hex(b);
}

/** The result type of a partition transform applied to a column of `sourceType`. */
export function partitionResultType(field: PartitionField, sourceType: string | undefined): string {
  const t = field.transform;
  if (t === 'identity' || t.startsWith('truncate') || t === 'void') return sourceType ?? 'unknown';
  if (t === 'day') return 'date';
  return 'int'; // bucket[N], year, month, hour: integers
}

/** A partition value as avsc decoded it (no logical types applied), made JSON-safe for `type`. */
export function partitionValue(type: string, v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') {
    if (type === 'timestamp' || type === 'timestamptz') return formatTimestamp(v, 6, type === 'timestamptz');
    if (type === 'timestamp_ns' || type === 'timestamptz_ns') return formatTimestamp(v, 9, type === 'timestamptz_ns');
    if (type === 'time') return formatTime(v);
    const dec = /^decimal\(\s*\d+\s*,\s*(-?\d+)\s*\)$/.exec(type);
    if (dec) return formatUnscaled(v, Number(dec[1]));
    return jsonInt64(v);
  }
  if (typeof v === 'number') {
    if (type === 'date') return formatDate(v);
    if (type === 'time' || type === 'timestamp' || type === 'timestamptz') return partitionValue(type, BigInt(v));
    return jsonFloat(v);
  }
  if (v instanceof Uint8Array) return decodeBound(type === 'binary' || type.startsWith('fixed') ? 'binary' : type, v);
  return String(v);
}

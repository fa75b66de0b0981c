import type { Manifest } from '../types.js';

/**
 * Problems of a loaded manifest, empty when it is sound: the JSON's shape, non-negative safe-integer
 * counts, units that tile each file's rows, totals that add up, and segments that cover each file's
 * rows exactly once with in-range offsets. Nothing of a manifest is reused or served before this passes.
 */
export function manifestProblems(value: unknown, expectedVersion?: number): string[] {
  const problems: string[] = [];
  const bad = (p: string): boolean => problems.push(p) > 0 && problems.length >= 20;
  if (!isObject(value)) return ['not a JSON object'];
  const m = value as unknown as Manifest;
  if (m.manifestFormat !== 1) bad(`manifestFormat is ${JSON.stringify(m.manifestFormat)}, expected 1`);
  if (!count(m.version) || m.version < 1) bad(`version ${JSON.stringify(m.version)} is not a positive integer`);
  else if (expectedVersion !== undefined && m.version !== expectedVersion) bad(`holds version ${m.version}, expected ${expectedVersion}`);
  for (const k of ['collectionName', 'dbName', 'format', 'externalSource', 'resolvedSource', 'jobId', 'tableVersion', 'contentHash'] as const) {
    if (typeof m[k] !== 'string') bad(`${k} is not a string`);
  }
  if (!isObject(m.externalSpec) || typeof m.externalSpec.format !== 'string') bad('externalSpec is not a spec object');
  if (!isObject(m.schema) || !Array.isArray(m.schema.fields) || typeof m.schema.arrowIpc !== 'string') bad('schema is malformed');
  for (const k of ['fields', 'fileSchemas', 'warnings', 'files', 'segments', 'skipped'] as const) {
    if (!Array.isArray(m[k])) bad(`${k} is not a list`);
  }
  for (const k of ['totalRows', 'physicalRows', 'createdAt'] as const) if (!count(m[k])) bad(`${k} ${JSON.stringify(m[k])} is not a non-negative integer`);
  if (problems.length > 0) return problems;

  const files = new Map<string, { rows: number; covered: [number, number][] }>();
  let live = 0;
  let physical = 0;
  for (const [i, f] of m.files.entries()) {
    const where = `files[${i}]`;
    if (!isObject(f) || typeof f.path !== 'string' || f.path === '' || typeof f.fingerprint !== 'string') {
      if (bad(`${where} lacks a path or fingerprint`)) return problems;
      continue;
    }
    if (!(typeof f.mtimeMs === 'number' && Number.isFinite(f.mtimeMs) && f.mtimeMs >= 0)) bad(`${where} (${f.path}): mtimeMs is not a time`);
    for (const k of ['sizeBytes', 'rows', 'liveRows'] as const) {
      if (!count(f[k]) && bad(`${where} (${f.path}): ${k} ${JSON.stringify(f[k])} is not a non-negative integer`)) return problems;
    }
    if (count(f.rows) && count(f.liveRows) && f.liveRows > f.rows) bad(`${where} (${f.path}): liveRows ${f.liveRows} exceed rows ${f.rows}`);
    if (files.has(f.path)) bad(`${where}: ${f.path} is listed twice`);
    if (!Array.isArray(f.units)) {
      if (bad(`${where} (${f.path}): units is not a list`)) return problems;
      continue;
    }
    let offset = 0;
    for (const [j, u] of f.units.entries()) {
      if (!isObject(u) || !count(u.rows) || !count(u.rowOffset) || !count(u.byteSize) || u.rowOffset !== offset) {
        if (bad(`${where} (${f.path}): unit ${j} is malformed or not at row ${offset}`)) return problems;
        break;
      }
      offset += u.rows;
    }
    if (count(f.rows) && offset !== f.rows) bad(`${where} (${f.path}): units hold ${offset} rows, the file ${f.rows}`);
    files.set(f.path, { rows: f.rows, covered: [] });
    live += count(f.liveRows) ? f.liveRows : 0;
    physical += count(f.rows) ? f.rows : 0;
  }
  if (live !== m.totalRows) bad(`totalRows ${m.totalRows} is not the sum of the files' live rows (${live})`);
  if (physical !== m.physicalRows) bad(`physicalRows ${m.physicalRows} is not the sum of the files' rows (${physical})`);
  if (problems.length > 0) return problems;

  const ids = new Set<string>();
  for (const [i, s] of m.segments.entries()) {
    const r = isObject(s) && Array.isArray(s.ranges) && s.ranges.length === 1 ? s.ranges[0] : undefined;
    const file = r && isObject(r) && typeof r.path === 'string' ? files.get(r.path) : undefined;
    if (!isObject(s) || typeof s.id !== 'string' || !count(s.rows) || s.rows === 0 || !r || !file || !count(r.rowOffset) || r.rows !== s.rows) {
      if (bad(`segments[${i}] is malformed or names no file of the manifest`)) return problems;
      continue;
    }
    if (ids.has(s.id)) bad(`segments[${i}]: id ${s.id} repeats`);
    ids.add(s.id);
    if (r.rowOffset + r.rows > file.rows) bad(`segments[${i}] (${r.path}): rows ${r.rowOffset}..${r.rowOffset + r.rows} lie beyond the file's ${file.rows}`);
    file.covered.push([r.rowOffset, r.rows]);
  }
  for (const [p, f] of files) {
    f.covered.sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (const [offset, rows] of f.covered) {
      if (offset !== next) {
        bad(`segments of ${p} ${offset < next ? 'overlap' : 'leave a gap'} at row ${Math.min(offset, next)}`);
        break;
      }
      next = offset + rows;
    }
    if (next !== f.rows && !problems.some((x) => x.includes(p))) bad(`segments of ${p} cover ${next} of its ${f.rows} rows`);
    if (problems.length >= 20) break;
  }
  return problems;
}

function count(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

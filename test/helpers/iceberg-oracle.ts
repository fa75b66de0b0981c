// An independent oracle for Iceberg tables in the corpus: the manifests are read with plain avsc (no lakemap
// code), data and delete files are read with DuckDB (its iceberg extension cannot be downloaded here, so the
// delete semantics of the Iceberg spec are applied in SQL: position deletes by (file_path, pos), equality
// deletes by an anti-join on the equality columns, each scoped by sequence number and partition).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import avro from 'avsc';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../../fixtures/parquet/duckdb.js';

const bigintLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: (x: number) => BigInt(x),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Reads an Avro object container with avsc (null and deflate codecs: all the corpus uses). */
function readAvro(file: string): { records: Record<string, unknown>[]; meta: Record<string, string> } {
  const bytes = fs.readFileSync(file);
  const type = (s: unknown) => avro.Type.forSchema(s as avro.Schema, {
    registry: { long: bigintLong },
    typeHook: (t: unknown) => (typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'long' && !(t as { logicalType?: unknown }).logicalType ? bigintLong : undefined),
  });
  const headerType = avro.Type.forSchema({ type: 'record', name: 'h', fields: [
    { name: 'magic', type: { type: 'fixed', name: 'm', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 's', size: 16 } },
  ] });
  const { value: header, offset } = headerType.decode(bytes, 0) as { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  const meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString()]));
  const codec = meta['avro.codec'] ?? 'null';
  const recordType = type(JSON.parse(meta['avro.schema']!));
  const records: Record<string, unknown>[] = [];
  const longType = avro.Type.forSchema('long');
  let pos = offset;
  while (pos < bytes.length) {
    const count = longType.decode(bytes, pos) as { value: number; offset: number };
    const size = longType.decode(bytes, count.offset) as { value: number; offset: number };
    let block = bytes.subarray(size.offset, size.offset + size.value);
    if (codec === 'deflate') block = zlib.inflateRawSync(block);
    else if (codec !== 'null') throw new Error(`oracle: codec ${codec} not handled`);
    let p = 0;
    for (let i = 0; i < count.value; i++) {
      const r = recordType.decode(block, p) as { value: Record<string, unknown>; offset: number };
      records.push(r.value);
      p = r.offset;
    }
    pos = size.offset + size.value + 16;
  }
  return { records, meta };
}

/** A live file of the snapshot as the manifests list it. */
interface OracleFile {
  content: number;
  written: string;
  local: string | undefined;
  format: string;
  records: number;
  seq: bigint;
  specId: number;
  partition: string;
  unpartitioned: boolean;
  equalityIds?: number[];
}

/** Top-level column names of a parquet file by field id, from DuckDB's `parquet_schema`. */
async function columnsByFieldId(con: DuckDBConnection, file: string): Promise<Map<number, string>> {
  const rows = (await queryRows(con, `SELECT name, field_id FROM parquet_schema(${sqlString(file)}) WHERE field_id IS NOT NULL`)) as { name: string; field_id: number | string }[];
  return new Map(rows.map((r) => [Number(r.field_id), r.name]));
}

/** What the oracle says about one data file. */
export interface OracleDataFile {
  /** Path relative to the table directory. */
  path: string;
  /** record_count in the manifest. */
  records: number;
  /** Rows DuckDB counts in the file. */
  duckdbRows: number;
  /** Rows left after the deletes, by DuckDB; undefined when a deletion vector applies (Puffin is not readable by DuckDB). */
  liveRows: number | undefined;
  /**
   * SQL selecting the live rows (undefined with a deletion vector) in file order, one column `c<i>` per
   * id of `options.fieldIds`: the data file's column with that field id, NULL where the file lacks it.
   */
  liveRowsSql: string | undefined;
}

/** Finds the local copy of a written path: the longest suffix that exists under the table directory or its parents up to `root`. */
function localPath(written: string, dirs: string[]): string | undefined {
  const parts = written.replace(/^[a-z0-9]+:\/\//i, '').split('/');
  for (let i = 0; i < parts.length; i++) {
    const suffix = parts.slice(i).join('/');
    for (const d of dirs) if (fs.existsSync(path.join(d, suffix)) && fs.statSync(path.join(d, suffix)).isFile()) return path.join(d, suffix);
  }
  return undefined;
}

const jsonKey = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('hex') : x));

/**
 * Lists the live data files of snapshot `snapshotId` of the table in `dir` (metadata file `metadataFile`
 * relative to it) and counts their rows and live rows with DuckDB. `searchDirs` are where files are looked
 * for (the table directory first).
 */
export async function icebergOracle(
  con: DuckDBConnection, dir: string, metadataFile: string, snapshotId: string, searchDirs: string[], options: { fieldIds?: number[] } = {},
): Promise<OracleDataFile[]> {
  let text = fs.readFileSync(path.join(dir, metadataFile));
  if (text[0] === 0x1f) text = zlib.gunzipSync(text);
  const meta = JSON.parse(text.toString().replace(/("(?:snapshot-id|parent-snapshot-id|current-snapshot-id)"\s*:\s*)(-?\d+)/g, '$1"$2"')) as {
    snapshots: { 'snapshot-id': string; 'manifest-list'?: string; manifests?: string[] }[];
    schemas?: { fields: { id: number; name: string }[] }[];
    schema?: { fields: { id: number; name: string }[] };
    'partition-specs'?: { 'spec-id': number; fields: { transform: string }[] }[];
  };
  const snap = meta.snapshots.find((s) => s['snapshot-id'] === snapshotId)!;
  const names = new Map<number, string>();
  for (const s of [...(meta.schemas ?? []), ...(meta.schema ? [meta.schema] : [])]) for (const f of s.fields) names.set(f.id, f.name);
  const unpartitionedSpecs = new Set((meta['partition-specs'] ?? []).filter((s) => s.fields.every((f) => f.transform === 'void')).map((s) => s['spec-id']));

  const manifests: { path: string; seq: bigint; specId: number }[] = [];
  if (snap['manifest-list']) {
    const list = localPath(snap['manifest-list'], searchDirs);
    if (!list) throw new Error(`oracle: manifest list ${snap['manifest-list']} not found`);
    for (const m of readAvro(list).records) {
      manifests.push({ path: m['manifest_path'] as string, seq: (m['sequence_number'] as bigint | undefined) ?? 0n, specId: (m['partition_spec_id'] as number | undefined) ?? 0 });
    }
  } else for (const p of snap.manifests ?? []) manifests.push({ path: p, seq: 0n, specId: 0 });

  const files: OracleFile[] = [];
  for (const m of manifests) {
    const local = localPath(m.path, searchDirs);
    if (!local) throw new Error(`oracle: manifest ${m.path} not found`);
    const { records, meta: header } = readAvro(local);
    const specId = header['partition-spec-id'] !== undefined ? Number(header['partition-spec-id']) : m.specId;
    for (const e of records) {
      if (e['status'] === 2) continue;
      const df = e['data_file'] as Record<string, unknown>;
      const format = String(df['file_format']).toUpperCase();
      const content = (df['content'] as number | undefined) ?? 0;
      if (content === 0 && !['PARQUET', 'AVRO', 'ORC'].includes(format)) continue; // not a data file
      const partition = df['partition'] ?? {};
      files.push({
        content, written: df['file_path'] as string, local: localPath(df['file_path'] as string, searchDirs), format,
        records: Number(df['record_count']), seq: (e['sequence_number'] as bigint | null) ?? m.seq, specId,
        partition: jsonKey(partition), unpartitioned: unpartitionedSpecs.has(specId) || Object.keys(partition as object).length === 0,
        ...(Array.isArray(df['equality_ids']) ? { equalityIds: (df['equality_ids'] as unknown[]).map(Number) } : {}),
      });
    }
  }

  const out: OracleDataFile[] = [];
  for (const d of files.filter((f) => f.content === 0)) {
    if (!d.local) throw new Error(`oracle: data file ${d.written} not found under ${searchDirs.join(', ')}`);
    const src = `read_parquet(${sqlString(d.local)})`;
    const [{ n }] = (await queryRows(con, `SELECT count(*)::INTEGER AS n FROM ${src}`)) as [{ n: number }];
    let live: number | undefined = n;
    const conditions: string[] = [];
    const posDeletes = files.filter((f) => f.content === 1 && f.format === 'PARQUET' && f.seq >= d.seq); // matched by file_path below
    const dvs = files.filter((f) => f.content === 1 && f.format === 'PUFFIN' && f.seq >= d.seq);
    if (posDeletes.length > 0) {
      const union = posDeletes.map((f) => `SELECT pos FROM read_parquet(${sqlString(f.local!)}) WHERE file_path = ${sqlString(d.written)}`).join(' UNION ALL ');
      conditions.push(`file_row_number NOT IN (${union})`);
    }
    for (const f of files.filter((x) => x.content === 2 && x.seq > d.seq && (x.unpartitioned || (x.specId === d.specId && x.partition === d.partition)))) {
      // Columns are matched by field id, as Iceberg does (writers may sanitize names: "Breed Name" → Breed_x20Name).
      const delCols = await columnsByFieldId(con, f.local!);
      const datCols = await columnsByFieldId(con, d.local);
      const on = f.equalityIds!.map((id) => {
        const dc = delCols.get(id) ?? names.get(id)!;
        // a field the data file lacks (added after it was written) is NULL for its rows
        const tc = datCols.has(id) ? `dat."${datCols.get(id)}"` : datCols.size === 0 ? `dat."${names.get(id)}"` : 'NULL';
        return `eq_del."${dc}" IS NOT DISTINCT FROM ${tc}`;
      }).join(' AND ');
      conditions.push(`NOT EXISTS (SELECT 1 FROM (SELECT * FROM read_parquet(${sqlString(f.local!)}, hive_partitioning = false)) AS eq_del WHERE ${on})`);
    }
    const from = `read_parquet(${sqlString(d.local)}, file_row_number = true, hive_partitioning = false) AS dat`;
    if (conditions.length > 0) {
      const sql = `SELECT count(*)::INTEGER AS n FROM ${from} WHERE ${conditions.join(' AND ')}`;
      try { live = ((await queryRows(con, sql)) as [{ n: number }])[0].n; } catch (e) { throw new Error(`${(e as Error).message} in ${sql}`); }
    }
    let liveRowsSql: string | undefined;
    if (options.fieldIds) {
      const datCols = await columnsByFieldId(con, d.local);
      const column = (id: number) => (datCols.has(id) ? `dat."${datCols.get(id)}"` : datCols.size === 0 ? `dat."${names.get(id)}"` : 'NULL');
      const cols = options.fieldIds.map((id, i) => `${column(id)} AS c${i}`);
      liveRowsSql = `SELECT ${cols.join(', ')} FROM ${from}${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY file_row_number`;
    }
    if (dvs.length > 0) live = liveRowsSql = undefined;
    const rel = path.relative(dir, d.local).split(path.sep).join('/');
    out.push({ path: rel, records: d.records, duckdbRows: n, liveRows: live, liveRowsSql });
  }
  return out;
}

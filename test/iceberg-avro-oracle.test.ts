// Every Avro file of the corpus's Iceberg tables (manifest lists and manifests written by Spark, PyIceberg,
// Java Iceberg…) decoded by lakemap's container reader and, independently, by avsc's own streaming
// container decoder (its framing, its inflate): the header and every record must agree (issue 15).
import * as fs from 'node:fs';
import * as path from 'node:path';
import avro from 'avsc';
import { expect, it } from 'vitest';
import { readAvroContainer } from '../scanners/iceberg/avro.js';
import type { AvroProjection } from '../scanners/iceberg/avro-projection.js';
import { MANIFEST_ENTRY_FIELDS, MANIFEST_FILE_FIELDS } from '../scanners/iceberg/manifests.js';
import { describeWithCorpus } from './helpers/corpus.js';

function avroFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.avro')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

// Longs as BigInt (snapshot ids exceed 2^53), written here rather than taken from lakemap.
const long = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** The header and records as avsc's BlockDecoder reads them (records decoded with BigInt longs). */
function avscDecode(file: string): Promise<{ meta: Map<string, string>; records: unknown[] }> {
  return new Promise((resolve, reject) => {
    let type: avro.Type | undefined;
    const meta = new Map<string, string>();
    const raw: Buffer[] = [];
    avro
      .createFileDecoder(file, { noDecode: true })
      .on('metadata', (_t: avro.Type, _codec: string, header: { meta: Record<string, Buffer> }) => {
        for (const [k, v] of Object.entries(header.meta)) meta.set(k, v.toString('utf8'));
        type = avro.Type.forSchema(JSON.parse(meta.get('avro.schema')!) as avro.Schema, {
          registry: {},
          typeHook: (s: unknown) => (s === 'long' || ((s as { type?: unknown }).type === 'long' && (s as { logicalType?: unknown }).logicalType === undefined) ? long : undefined),
        });
      })
      .on('data', (b: Buffer) => raw.push(b))
      .on('error', reject)
      .on('end', () => resolve({ meta, records: raw.map((b) => type!.fromBuffer(b)) }));
  });
}

/** `value` with only the projected fields (what a projected decode must give), from avsc's whole record. */
function pick(value: unknown, keep: AvroProjection): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const inner = keep[k];
    if (inner !== undefined) out[k] = inner === true ? v : pick(v, inner);
  }
  return out;
}

describeWithCorpus('iceberg', 'Avro container files of the corpus, lakemap vs avsc', (dir) => {
  const files = avroFiles(dir);

  it('finds the corpus files (manifest lists and manifests, null and deflate codecs)', () => {
    expect(files.length).toBeGreaterThan(100);
    const codecs = new Set(files.map((f) => readAvroContainer(fs.readFileSync(f), f).metadata.get('avro.codec') ?? 'null'));
    expect([...codecs].sort()).toEqual(['deflate', 'null']);
  });

  it('decodes each file to the same header and records', async () => {
    let records = 0;
    for (const f of files) {
      const ours = readAvroContainer(fs.readFileSync(f), f);
      const theirs = await avscDecode(f);
      expect(ours.metadata, f).toEqual(theirs.meta);
      expect(ours.records.length, f).toBe(theirs.records.length);
      expect(ours.records, f).toEqual(theirs.records);
      records += ours.records.length;
    }
    expect(records).toBeGreaterThan(files.length);
  });

  it('projected onto the fields the scanner reads, each manifest and manifest list gives avsc\'s values for those fields', async () => {
    let projected = 0;
    let skippedStats = 0;
    for (const f of files) {
      const theirs = await avscDecode(f);
      const name = (JSON.parse(theirs.meta.get('avro.schema')!) as { name?: string }).name;
      const keep = name === 'manifest_entry' ? MANIFEST_ENTRY_FIELDS : name === 'manifest_file' ? MANIFEST_FILE_FIELDS : undefined;
      expect(keep, `${f}: record ${name}`).toBeDefined();
      const ours = readAvroContainer(fs.readFileSync(f), f, keep);
      expect(ours.records, f).toEqual(theirs.records.map((r) => pick(r, keep!)));
      projected++;
      // The left-out stats maps are really skipped (not decoded and dropped after).
      const df = (theirs.records[0] as { data_file?: Record<string, unknown> } | undefined)?.data_file;
      if (df && 'value_counts' in df) {
        expect((ours.records[0] as { data_file: object }).data_file, f).not.toHaveProperty('value_counts');
        skippedStats++;
      }
    }
    expect(projected).toBe(files.length);
    expect(skippedStats).toBeGreaterThan(10);
  });
});

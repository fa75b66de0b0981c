// Vortex files read by an independent reader: `flatc` (Debian's flatbuffers-compiler) generates TypeScript
// from our own minimal schema of the footer (fixtures/vortex/footer-schema.fbs, written from the Vortex
// spec) at test time, into a temp folder. The fixture writer's files and the real Vortex files of the
// corpus are read with it and compared with what the scanner reports, so neither the writer nor the
// scanner is checked only by its own hand-coded flatbuffer slots.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFlatc, loadFlatcReader } from './helpers/flatc.js';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { SAMPLES } from '../fixtures/vortex/samples.js';
import { vortexScanner } from '../scanners/vortex/index.js';
import { probeLocalFile } from './helpers/scan.js';

if (!hasFlatc) console.warn('flatc missing (Debian package flatbuffers-compiler): the independent flatc-generated Vortex footer reader is NOT run');

const schemaFile = path.resolve(import.meta.dirname, '../fixtures/vortex/footer-schema.fbs');
const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/vortex/stable');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-flatc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any */
let vx: any;
let ByteBuffer: any;

beforeAll(async () => {
  if (!hasFlatc) return;
  ({ module: vx, ByteBuffer } = await loadFlatcReader(schemaFile, tmp));
});

/** PType codes of the spec, in order, with the Arrow type each maps to. */
const PTYPE_ARROW = ['Uint8', 'Uint16', 'Uint32', 'Uint64', 'Int8', 'Int16', 'Int32', 'Int64', 'Float16', 'Float32', 'Float64'];

interface Read {
  rows: bigint;
  layoutIds: string[];
  segments: number;
  segmentSpans: [bigint, number][];
  /** Top-level columns: name, and for primitives the Arrow type of the ptype. */
  columns: { name: string; arrow?: string; nullable?: boolean }[];
  nullCounts: (bigint | null)[];
  postscript: Record<'dtype' | 'layout' | 'statistics' | 'footer', [bigint, number] | undefined>;
}

/** Reads a whole Vortex file with the flatc-generated classes only. */
function readWithFlatc(bytes: Uint8Array): Read {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const psLength = view.getUint16(bytes.length - 6, true);
  const psStart = bytes.length - 8 - psLength;
  const bb = (start: number, length: number) => new ByteBuffer(bytes.slice(start, start + length));
  const ps = vx.Postscript.getRootAsPostscript(bb(psStart, psLength));
  const seg = (s: any): [bigint, number] | undefined => (s ? [s.offset(), s.length()] : undefined);
  const postscript = { dtype: seg(ps.dtype()), layout: seg(ps.layout()), statistics: seg(ps.statistics()), footer: seg(ps.footer()) };
  const at = (s: [bigint, number]) => bb(Number(s[0]), s[1]);

  const footer = vx.Footer.getRootAsFooter(at(postscript.footer!));
  const layoutSpecIds = Array.from({ length: footer.layoutSpecsLength() }, (_, i) => footer.layoutSpecs(i).id() as string);
  const segmentSpans: [bigint, number][] = Array.from({ length: footer.segmentSpecsLength() }, (_, i) => [footer.segmentSpecs(i).offset(), footer.segmentSpecs(i).length()]);

  const layout = vx.Layout.getRootAsLayout(at(postscript.layout!));
  const layoutIds: string[] = [];
  const walk = (l: any) => {
    const id = layoutSpecIds[l.encoding()]!;
    if (!layoutIds.includes(id)) layoutIds.push(id);
    for (let i = 0; i < l.childrenLength(); i++) walk(l.children(i));
  };
  walk(layout);

  const dtype = vx.DType.getRootAsDType(at(postscript.dtype!));
  const columns: Read['columns'] = [];
  const describe = (name: string, d: any) => {
    const type = d.typeType();
    if (type === vx.Type.PrimitiveType) {
      const p = d.type(new vx.PrimitiveType());
      columns.push({ name, arrow: PTYPE_ARROW[p.ptype()], nullable: p.nullable() });
    } else columns.push({ name });
  };
  if (dtype.typeType() === vx.Type.StructType) {
    const s = dtype.type(new vx.StructType());
    for (let i = 0; i < s.namesLength(); i++) describe(s.names(i), s.dtypes(i));
  } else describe('value', dtype);

  const nullCounts: (bigint | null)[] = [];
  if (postscript.statistics) {
    const stats = vx.FileStatistics.getRootAsFileStatistics(at(postscript.statistics));
    for (let i = 0; i < stats.fieldStatsLength(); i++) nullCounts.push(stats.fieldStats(i).nullCount());
  }
  return { rows: layout.rowCount(), layoutIds, segments: footer.segmentSpecsLength(), segmentSpans, columns, nullCounts, postscript };
}

/** The scanner's view of the same file, and the comparison. */
async function compareWithScanner(file: string, read: Read): Promise<void> {
  const p = await probeLocalFile(vortexScanner, file);
  expect(BigInt(p.rows)).toBe(read.rows);
  expect(p.details!['layouts']).toEqual(read.layoutIds);
  expect(p.details!['segments']).toBe(read.segments);
  expect(p.schema.fields.map((f) => f.name)).toEqual(read.columns.map((c) => c.name));
  for (const c of read.columns) {
    if (!c.arrow) continue;
    const f = p.schema.fields.find((x) => x.name === c.name)!;
    expect(String(f.type), `column ${c.name}`).toBe(c.arrow);
    expect(f.nullable, `column ${c.name} nullable`).toBe(c.nullable);
  }
  const stats = p.details!['fieldStats'] as Record<string, { nullCount?: number }> | undefined;
  read.nullCounts.forEach((n, i) => {
    if (n !== null) expect(BigInt(stats![read.columns[i]!.name]!.nullCount!)).toBe(n);
  });
}

describe.skipIf(!hasFlatc)('Vortex files read by a flatc-generated reader (needs flatc)', () => {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    it(`fixture ${name}: the writer put what it reports, and the scanner reads the same`, async () => {
      const written = writeVortexFile(sample);
      const read = readWithFlatc(written.bytes);
      for (const k of ['dtype', 'layout', 'statistics', 'footer'] as const) {
        const w = written.footerSegments[k];
        expect(read.postscript[k], k).toEqual(w ? [BigInt(w.offset), w.length] : undefined);
      }
      expect(read.segmentSpans).toEqual(written.dataSegments.map((s) => [BigInt(s.offset), s.length]));
      const file = path.join(tmp, `${name}.vortex`);
      fs.writeFileSync(file, written.bytes);
      await compareWithScanner(file, read);
    });
  }

  for (const rel of ['int32-flat-0.74.vortex', 'struct-five-0.70.vortex']) {
    it(`real file ${rel}: the scanner reads what the flatc reader reads`, async () => {
      const file = path.join(corpus, rel);
      expect(fs.existsSync(file), `the Vortex corpus is missing: ${file}`).toBe(true);
      const read = readWithFlatc(new Uint8Array(fs.readFileSync(file)));
      expect(read.columns.every((c) => c.arrow !== undefined)).toBe(true);
      await compareWithScanner(file, read);
    });
  }
});

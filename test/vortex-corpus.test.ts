// Conformance against real Vortex files in ../shared/corpus/vortex (kept beside the checkout, never copied),
// checked against EXPECTED.json (rows, dtype, min/max as the files' provenance states them). A missing corpus
// fails this file: conformance must never vanish silently.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vortexScanner } from '../scanners/vortex/index.js';
import { LakemapError, type FileProbe } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/vortex');
const expectedFile = path.join(corpus, 'EXPECTED.json');

/** What EXPECTED.json says about one file. `dtype` is prose written by a person; see `expectedColumns`. */
interface Expected {
  rows: number;
  min?: number;
  max?: number;
  dtype?: string;
}

/** Arrow type names (`String(type)`) of Vortex ptypes. */
const ARROW_OF: Record<string, string> = {
  u8: 'Uint8', u16: 'Uint16', u32: 'Uint32', u64: 'Uint64', i8: 'Int8', i16: 'Int16', i32: 'Int32', i64: 'Int64',
  f16: 'Float16', f32: 'Float32', f64: 'Float64',
};

interface ExpectedColumn {
  name: string;
  arrow: string;
  nullable?: boolean;
  min?: number;
  max?: number;
}

/**
 * Columns described by an EXPECTED.json entry: `"i32 non-nullable, bare primitive root"` (one column
 * `value`, min/max from the entry) or `"non-nullable struct {value: u32 1..5, metric: i64 10..50}"`.
 * An unreadable description fails the test, so a new corpus entry cannot go unchecked.
 */
function expectedColumns(e: Expected): ExpectedColumn[] {
  const d = e.dtype ?? '';
  const bare = /^(\w+) (non-nullable|nullable), bare primitive root$/.exec(d);
  if (bare) {
    const col: ExpectedColumn = { name: 'value', arrow: ARROW_OF[bare[1]!]!, nullable: bare[2] === 'nullable' };
    if (e.min !== undefined) col.min = e.min;
    if (e.max !== undefined) col.max = e.max;
    return [col];
  }
  const struct = /^(?:non-nullable )?struct \{(.*)\}$/.exec(d);
  if (struct) {
    return struct[1]!.split(',').map((part) => {
      const m = /^\s*(\w+): (\w+)(?: (-?\d+)\.\.(-?\d+))?\s*$/.exec(part);
      if (!m) throw new Error(`EXPECTED.json dtype part not understood: ${JSON.stringify(part)}`);
      const col: ExpectedColumn = { name: m[1]!, arrow: ARROW_OF[m[2]!]! };
      if (m[3] !== undefined) col.min = Number(m[3]);
      if (m[4] !== undefined) col.max = Number(m[4]);
      return col;
    });
  }
  throw new Error(`EXPECTED.json dtype not understood: ${JSON.stringify(d)}`);
}

async function refusal(file: string): Promise<LakemapError> {
  const err = await probeLocalFile(vortexScanner, file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LakemapError);
  return err as LakemapError;
}

describe('vortex corpus', () => {
  it('is present beside the checkout', () => {
    expect(fs.existsSync(expectedFile), `the Vortex corpus is missing: ${expectedFile} does not exist`).toBe(true);
  });
  if (!fs.existsSync(expectedFile)) return; // the test above fails and names the path

  it('refuses the real pre-0.36 file (ends in VRTX) as UNSUPPORTED, saying it predates the stable format', async () => {
    const err = await refusal(path.join(corpus, 'legacy/example-pre-0.36.vortex'));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toMatch(/predates the stable Vortex file format \(0\.36\)/);
  });

  it('refuses the real 0.25 development file (VTXF, 48-byte postscript) as UNSUPPORTED, not as corrupt', async () => {
    const file = path.join(corpus, 'legacy/employees-0.25-dev.vortex');
    const bytes = fs.readFileSync(file);
    expect(bytes.readUInt16LE(bytes.length - 6)).toBe(48); // the corpus file is what this test is about
    expect(bytes.subarray(-4).toString('latin1')).toBe('VTXF');
    const err = await refusal(file);
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toMatch(/predates the stable Vortex file format \(0\.36\)/);
    expect(err.message).toContain('employees-0.25-dev.vortex');
  });

  const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as Record<string, number | Expected>;
  const entries = Object.entries(expected).map(([rel, e]) => [rel, typeof e === 'number' ? { rows: e } : e] as const);

  it('describes every stable-format file in the corpus', () => {
    expect(entries.length).toBeGreaterThan(0);
    const onDisk = (fs.readdirSync(corpus, { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => f.endsWith('.vortex') && !f.startsWith('legacy/'));
    expect(onDisk.filter((f) => !expected[f])).toEqual([]);
    expect(onDisk.length).toBe(entries.length);
  });

  for (const [rel, want] of entries) {
    describe(rel, () => {
      let probe: FileProbe;
      const load = async (): Promise<FileProbe> => (probe ??= await probeLocalFile(vortexScanner, path.join(corpus, rel)));

      it(`has ${want.rows} rows, in units that add up`, async () => {
        const p = await load();
        expect(p.rows).toBe(want.rows);
        expect(p.units.reduce((n, u) => n + u.rows, 0)).toBe(want.rows);
        expect(p.warnings ?? []).toEqual([]);
      });

      it('maps every column to the Arrow type its dtype names', async () => {
        const p = await load();
        const cols = expectedColumns(want);
        expect(p.schema.fields.map((f) => f.name)).toEqual(cols.map((c) => c.name));
        for (const c of cols) {
          const f = p.schema.fields.find((x) => x.name === c.name)!;
          expect(String(f.type), `column ${c.name}`).toBe(c.arrow);
          if (c.nullable !== undefined) expect(f.nullable, `column ${c.name} nullable`).toBe(c.nullable);
        }
      });

      it('reads min/max statistics equal to the expected values, marked exact', async () => {
        const p = await load();
        const withBounds = expectedColumns(want).filter((c) => c.min !== undefined || c.max !== undefined);
        expect(withBounds.length, `${rel}: EXPECTED.json gives no min/max to check`).toBeGreaterThan(0);
        const stats = (p.details as { fieldStats?: Record<string, { min?: number; max?: number; minExact?: boolean; maxExact?: boolean }> }).fieldStats;
        expect(stats, 'the file carries statistics').toBeDefined();
        for (const c of withBounds) {
          expect(stats![c.name], `statistics of ${c.name}`).toMatchObject({ min: c.min, max: c.max, minExact: true, maxExact: true });
        }
      });
    });
  }
});

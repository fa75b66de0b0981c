// Conformance against real Vortex files in ../shared/corpus/vortex (kept beside the checkout, never copied).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vortexScanner } from '../scanners/vortex/index.js';
import { LakemapError } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';

const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/vortex');
const legacy = path.join(corpus, 'legacy/example-pre-0.36.vortex');
const expectedFile = path.join(corpus, 'EXPECTED.json');

describe('vortex corpus', () => {
  if (!fs.existsSync(corpus)) {
    console.warn(`vortex corpus missing: ${corpus} does not exist; the conformance test against real files did NOT run`);
    it.skip(`corpus missing (${corpus}): conformance against real Vortex files not run`, () => {});
    return;
  }

  it.runIf(fs.existsSync(legacy))('refuses the real pre-0.36 file (ends in VRTX) as UNSUPPORTED, saying it predates the stable format', async () => {
    const err = await probeLocalFile(vortexScanner, legacy).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LakemapError);
    expect((err as LakemapError).code).toBe('UNSUPPORTED');
    expect((err as LakemapError).message).toMatch(/predates the stable Vortex file format \(0\.36\)/);
  });

  if (!fs.existsSync(expectedFile)) {
    console.warn(
      `vortex corpus has no stable-format (VTXF) files: ${expectedFile} is absent, so the scanner is verified only against the spec-following fixture writer, not against files written by the real Vortex library`,
    );
    it.skip('no stable-format Vortex files in the corpus (EXPECTED.json missing): real-writer conformance not run', () => {});
    return;
  }

  // EXPECTED.json: { "<path relative to corpus/vortex>": <rows> } or { "<path>": { "rows": n } }.
  const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as Record<string, number | { rows: number }>;
  const files = Object.keys(expected);
  it('lists at least one file, and every stable-format file in the corpus', () => {
    expect(files.length).toBeGreaterThan(0);
    const onDisk = (fs.readdirSync(corpus, { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => f.endsWith('.vortex') && !f.startsWith('legacy/'));
    expect(onDisk.filter((f) => !(f in expected))).toEqual([]);
  });
  for (const rel of files) {
    const want = expected[rel]!;
    const rows = typeof want === 'number' ? want : want.rows;
    it(`maps ${rel} with ${rows} rows`, async () => {
      const p = await probeLocalFile(vortexScanner, path.join(corpus, rel));
      expect(p.rows).toBe(rows);
      expect(p.units.reduce((n, u) => n + u.rows, 0)).toBe(rows);
      expect(p.schema.fields.length).toBeGreaterThan(0);
    });
  }
});

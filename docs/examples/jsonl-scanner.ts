// A custom file scanner for newline-delimited JSON (*.jsonl), as described in docs/custom-scanners.md.
// The test suite registers it with an engine and refreshes a folder of .jsonl files.
import { Bool, Field, Float64, Schema, Utf8 } from 'apache-arrow';
import { LakemapError, type FileScanner } from 'lakemap';

/** Rows per unit: a "unit" is a block of lines, like a parquet row group. */
const LINES_PER_UNIT = 1000;
/** JSON Lines files are read whole, so refuse very large ones instead of exhausting memory. */
const MAX_BYTES = 64 * 1024 * 1024;

export const jsonlScanner: FileScanner = {
  kind: 'file',
  format: 'jsonl',
  extensions: ['.jsonl'],
  tailBytes: 0, // this format has no footer: read the whole file in probe()

  validateSpec(spec) {
    if (spec.lines_per_unit !== undefined && !(Number.isInteger(spec.lines_per_unit) && Number(spec.lines_per_unit) > 0)) {
      throw new LakemapError('INVALID_SPEC', '"lines_per_unit" must be a positive integer');
    }
  },

  async probe(file, ctx) {
    if (file.size > MAX_BYTES) throw new LakemapError('UNSUPPORTED', `${file.path}: larger than ${MAX_BYTES} bytes`, { path: file.path });
    const text = new TextDecoder().decode(await file.read(0, file.size));
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let first: Record<string, unknown> = {};
    try {
      first = lines.length > 0 ? JSON.parse(lines[0]!) : {};
    } catch {
      throw new LakemapError('CORRUPT_FILE', `${file.path}: line 1 is not JSON`, { path: file.path });
    }
    const schema = new Schema(
      Object.entries(first).map(([name, v]) =>
        new Field(name, typeof v === 'number' ? new Float64() : typeof v === 'boolean' ? new Bool() : new Utf8(), true),
      ),
    );
    const perUnit = (ctx.spec.lines_per_unit as number | undefined) ?? LINES_PER_UNIT;
    const units = [];
    for (let start = 0; start < lines.length; start += perUnit) {
      units.push({ rows: Math.min(perUnit, lines.length - start), byteSize: 0 });
    }
    return { rows: lines.length, units, schema };
  },
};

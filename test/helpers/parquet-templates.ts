// Parquet files written once per suite (by the fixture writer, seeded) and copied into lakes as bytes:
// template `t` has `rows(t)` rows in row groups of 16, so files made from different templates differ.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeParquetFile } from '../../fixtures/parquet/index.js';
import { tempDir } from './tmp.js';

export async function parquetTemplates(count: number, rows: (t: number) => number): Promise<Buffer[]> {
  const dir = tempDir();
  const out: Buffer[] = [];
  for (let t = 0; t < count; t++) {
    const f = path.join(dir, `t${t}.parquet`);
    await writeParquetFile(f, { rows: rows(t), rowGroupSize: 16, seed: t, columns: 'lake' });
    out.push(fs.readFileSync(f));
  }
  return out;
}

// fixtures/run-cache.ts: a fixture taken from the run cache is byte for byte what a fresh write gives,
// so suites assert the same with and without it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeParquetFile } from '../fixtures/parquet/index.js';
import { tempDir } from './helpers/tmp.js';

afterEach(() => {
  delete process.env.LAKEMAP_FIXTURE_CACHE;
});

it('a parquet fixture from the run cache has the bytes of a fresh DuckDB write; other options are other files', async () => {
  const d = tempDir();
  const opts = { rows: 3000, rowGroupSize: 2048, columns: 'lake' as const, seed: 7 };
  await writeParquetFile(path.join(d, 'first.parquet'), opts); // a miss: written by DuckDB, stored
  await writeParquetFile(path.join(d, 'cached.parquet'), opts); // a hit: copied
  await writeParquetFile(path.join(d, 'other.parquet'), { ...opts, seed: 8 });
  process.env.LAKEMAP_FIXTURE_CACHE = '0';
  await writeParquetFile(path.join(d, 'fresh.parquet'), opts);
  const read = (n: string) => fs.readFileSync(path.join(d, `${n}.parquet`));
  expect(read('cached').equals(read('first'))).toBe(true);
  expect(read('fresh').equals(read('first'))).toBe(true);
  expect(read('other').equals(read('first'))).toBe(false);
  expect(fs.readdirSync(path.join(process.env.LAKEMAP_TEST_TMPDIR!, 'fixture-cache')).length).toBeGreaterThan(0);
});

// Conformance over the real-world corpus (apache/parquet-testing data/ and bad_data/): for every file
// DuckDB reads, our rows, row groups, per-row-group rows and bytes and top-level column names equal
// DuckDB's parquet_file_metadata / parquet_metadata / parquet_schema. Files DuckDB refuses must fail
// with a LakemapError, unless listed in MAPPED_THOUGH_DUCKDB_REFUSES with the reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sqlString, withDuckDB } from '../fixtures/parquet/index.js';
import { cacheKey, cachedJson, fileStamps } from '../fixtures/run-cache.js';
import { parquetScanner } from '../scanners/parquet/index.js';
import { LakemapError, type FileProbe } from '../src/scanner.js';
import { probeLocalFile } from './helpers/scan.js';
import { describeWithCorpus } from './helpers/corpus.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/corpus/parquet');

/** Files DuckDB refuses whose footers are nevertheless valid, and why we map them. */
const MAPPED_THOUGH_DUCKDB_REFUSES: Record<string, string> = {
  // DuckDB's GeoParquet support rejects the file's `geo` key/value metadata; the parquet footer itself is sound.
  'bad_data/ARROW-GH-41317.parquet': 'GeoParquet metadata DuckDB rejects',
  'bad_data/ARROW-GH-41321.parquet': 'GeoParquet metadata DuckDB rejects',
  // DuckDB requires two children under MAP_KEY_VALUE; a key-only map is read as a list of its keys.
  'data/map_no_value.parquet': 'key-only MAP read as a list of keys',
};

/** DuckDB's view of one file, or the error it gave. */
interface DuckView {
  numRows?: number;
  rowGroups?: { rows: number; bytes: number }[];
  topLevel?: string[];
  error?: string;
}

function listCorpus(): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(CORPUS, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (/\.parquet(\.encrypted)?$/.test(e.name)) out.push(r);
    }
  };
  for (const top of ['data', 'bad_data']) if (fs.existsSync(path.join(CORPUS, top))) walk(top);
  return out.sort();
}

/** Top-level names from parquet_schema(): the root's children in the depth-first element list. */
function topLevelNames(elements: { name: string; num_children: number | null }[]): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (): void => {
    const n = elements[i++]!.num_children ?? 0;
    for (let k = 0; k < n; k++) skip();
  };
  for (let c = 0; c < (elements[0]?.num_children ?? 0); c++) {
    names.push(elements[i]!.name);
    skip();
  }
  return names;
}

const corpusPresent = fs.existsSync(CORPUS);
const files = corpusPresent ? listCorpus() : [];

describeWithCorpus('parquet', 'parquet corpus conformance', () => {
    const duck = new Map<string, DuckView>();
    // Our side is probed inside each test, not in beforeAll: product code run from a hook makes every
    // mutant it reaches "static" for Stryker (rerun with the whole suite, and reloaded per mutant).
    // Not memoized across tests: each test's coverage must include the probe its assertions judge.
    const ours = new Map<string, FileProbe | LakemapError>();
    const probeOf = async (rel: string): Promise<FileProbe | LakemapError> => {
      let o: FileProbe | LakemapError;
      try {
        o = await probeLocalFile(parquetScanner, path.join(CORPUS, rel));
      } catch (e) {
        if (!(e instanceof LakemapError)) throw new Error(`${rel}: not a LakemapError: ${String(e)}`, { cause: e });
        o = e;
      }
      ours.set(rel, o);
      return o;
    };

    beforeAll(async () => {
      // DuckDB's view of the read-only corpus, computed once per test run (fixtures/run-cache.ts)
      const views = await cachedJson(() => cacheKey(['parquet-corpus-duck', fileStamps(files.map((rel) => path.join(CORPUS, rel)))], [fileURLToPath(import.meta.url)]), () => duckViews());
      for (const [rel, view] of views) duck.set(rel, view);
    });
    const duckViews = (): Promise<[string, DuckView][]> =>
      withDuckDB(async (con) => {
        const out: [string, DuckView][] = [];
        for (const rel of files) {
          const lit = sqlString(path.join(CORPUS, rel));
          const view: DuckView = {};
          try {
            const [fm] = await queryRows(con, `SELECT num_rows FROM parquet_file_metadata(${lit})`);
            view.numRows = Number(fm!.num_rows);
            const rgs = await queryRows(
              con,
              `SELECT row_group_id, any_value(row_group_num_rows) AS rows, sum(total_compressed_size) AS bytes
               FROM parquet_metadata(${lit}) GROUP BY row_group_id ORDER BY row_group_id`,
            );
            view.rowGroups = rgs.map((r) => ({ rows: Number(r.rows), bytes: Number(r.bytes) }));
            const schema = await queryRows(con, `SELECT name, num_children FROM parquet_schema(${lit})`);
            view.topLevel = topLevelNames(schema as { name: string; num_children: number | null }[]);
          } catch (e) {
            view.error = (e as Error).message.split('\n')[0];
          }
          out.push([rel, view]);
        }
        return out;
      });
    afterAll(() => {
      const mapped = [...ours.values()].filter((v) => !(v instanceof LakemapError)).length;
      console.log(`parquet corpus: ${files.length} files, DuckDB reads ${[...duck.values()].filter((v) => !v.error).length}, lakemap probed ${ours.size}, maps ${mapped}`);
    });

    it('holds files to check', () => {
      expect(files.length).toBeGreaterThan(50);
    });

    it.each(files)('%s', async (rel) => {
      const d = duck.get(rel)!;
      const o = await probeOf(rel);
      if (rel.endsWith('.encrypted')) {
        expect(o, 'encrypted files are refused').toBeInstanceOf(LakemapError);
        expect((o as LakemapError).code).toBe('UNSUPPORTED');
        return;
      }
      if (d.error) {
        if (rel in MAPPED_THOUGH_DUCKDB_REFUSES) {
          expect(o, `${rel} (${MAPPED_THOUGH_DUCKDB_REFUSES[rel]})`).not.toBeInstanceOf(LakemapError);
        } else {
          expect(o, `DuckDB refuses ${rel} (${d.error}); so must we`).toBeInstanceOf(LakemapError);
        }
        return;
      }
      expect(o, `DuckDB reads ${rel}; we failed`).not.toBeInstanceOf(LakemapError);
      const probe = o as FileProbe;
      const rgRows = d.rowGroups!.map((g) => g.rows);
      expect(probe.units.length, 'row groups').toBe(d.rowGroups!.length);
      expect(probe.units.map((u) => u.rows), 'rows per row group').toEqual(rgRows);
      expect(probe.units.map((u) => u.byteSize), 'compressed bytes per row group').toEqual(d.rowGroups!.map((g) => g.bytes));
      expect(probe.rows, 'rows = sum of row groups').toBe(rgRows.reduce((a, b) => a + b, 0));
      // the footer's own num_rows (kept in details when it disagrees with the row groups) is DuckDB's num_rows
      expect(probe.details?.footerNumRows ?? probe.rows, 'footer num_rows').toBe(d.numRows);
      expect(probe.schema.fields.map((f) => f.name), 'top-level columns').toEqual(d.topLevel);
    });

    it('reports the repeated_no_annotation.parquet quirk: footer num_rows 0, one row group of 6 rows', async () => {
      const rel = 'data/repeated_no_annotation.parquet';
      expect(files).toContain(rel);
      const probe = (await probeOf(rel)) as FileProbe;
      expect(duck.get(rel)!.numRows).toBe(0);
      expect(probe.rows).toBe(6);
      expect(probe.details?.footerNumRows).toBe(0);
      expect(probe.warnings).toEqual([expect.stringMatching(/num_rows is 0 but the row groups hold 6 rows/)]);
    });

    it('refuses PARQUET-1481.parquet (invalid physical type) as CORRUPT_FILE', async () => {
      expect(files).toContain('bad_data/PARQUET-1481.parquet');
      const o = await probeOf('bad_data/PARQUET-1481.parquet');
      expect(o, 'bad_data/PARQUET-1481.parquet is in the corpus').toBeDefined();
      expect(o).toBeInstanceOf(LakemapError);
      expect((o as LakemapError).code).toBe('CORRUPT_FILE');
      expect((o as LakemapError).message).toMatch(/unknown physical type/);
    });

    it('maps the legacy list layouts as lists', async () => {
      const types = async (rel: string): Promise<string[]> => ((await probeOf(rel)) as FileProbe).schema.fields.map((f) => `${f.name}:${String(f.type)}`);
      expect(await types('data/old_list_structure.parquet')).toEqual(['a:List<List<Int32>>']);
      expect(await types('data/repeated_primitive_no_list.parquet')).toEqual([
        'Int32_list:List<Int32>',
        'String_list:List<Utf8>',
        'group_of_lists:Struct<{Int32_list_in_group:List<Int32>, String_list_in_group:List<Utf8>}>',
      ]);
      expect(await types('data/repeated_no_annotation.parquet')).toEqual(['id:Int32', 'phoneNumbers:Struct<{phone:List<Struct<{number:Int64, kind:Utf8}>>}>']);
    });
});

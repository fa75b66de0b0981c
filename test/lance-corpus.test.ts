// Conformance over ../shared/corpus/lance: datasets written by Lance releases 0.5.9 … 0.36.0.
// Each maps with the counts Lance itself reports (lancedb opens a temporary copy as the oracle) or
// fails with a LakemapError that says why.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, describe, expect, it } from 'vitest';
import { lanceScanner } from '../scanners/lance/index.js';
import { readDataFileFooter } from '../scanners/lance/data-file.js';
import { listVersions } from '../scanners/lance/versions.js';
import { readManifestFile } from '../scanners/lance/manifest-file.js';
import { LocalStorage } from '../src/storage/local.js';
import { LakemapError } from '../src/scanner.js';
import type { TableSnapshot } from '../src/scanner.js';
import { snapshotLocalTable } from './helpers/scan.js';

import { describeWithCorpus } from './helpers/corpus.js';
const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/lance');

/** What each known dataset must give for its newest version. */
const EXPECTED: Record<string, { physical: number; live: number; warning?: RegExp } | { error: RegExp }> = {
  '0.27.0/legacy_fts_index': { physical: 3, live: 3 },
  '0.36.0/btree_in_index_pkg.lance': { physical: 1000, live: 1000 },
  'historical/0.13.0_string_encoding.lance': { physical: 3, live: 3 },
  'v0.5.9/dataset_with_fragments': { error: /records no row count.*does not exist/ }, // its data files were never published
  'v0.5.9/no_fragments': { physical: 0, live: 0 },
  'v0.7.5/with_deletions': { physical: 100, live: 90, warning: /no writer version/ },
  'v0.8.0/migrated_from_v0.7.5': { physical: 102, live: 92, warning: /records 90 physical rows but .* holds 100/ },
  'v0.8.14/corrupt_index': { physical: 1900, live: 1900 },
  'v0.10.5/corrupt_schema': { physical: 4, live: 4, warning: /same field id in more than one data file/ },
  'v0.15.0/v1_no_files.lance': { physical: 0, live: 0 },
  'v0.15.0/v1_with_files.lance': { physical: 3, live: 3 },
  'v0.15.0/v2_no_files.lance': { physical: 0, live: 0 },
  'v0.15.0/v2_with_files.lance': { physical: 3, live: 3 },
  'v0.16.0/wrong_data_version_can_fix.lance': { physical: 3, live: 3 },
  'v0.16.0/wrong_data_version_no_fix.lance': { physical: 4, live: 4, warning: /fragment ids 1 are used by more than one fragment/ },
  'v0.18.2/index_no_details.lance': { physical: 100, live: 100 },
  'v0.20.0/old_btree_bitmap_indices.lance': { physical: 4, live: 4 },
  'v0.21.0/bad_index_fragment_bitmap': { physical: 288, live: 288 },
  'v0.27.1/pq_in_schema': { physical: 512, live: 512 },
  'v0.30.0_pre_created_at/index_without_created_at': { physical: 256, live: 256 },
};

function findDatasets(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (fs.existsSync(path.join(p, '_versions'))) out.push(path.relative(corpus, p));
    else out.push(...findDatasets(p));
  }
  return out.sort();
}

const totals = (s: TableSnapshot): { physical: number; live: number } => ({
  physical: s.entries.reduce((n, e) => n + e.rows, 0),
  live: s.entries.reduce((n, e) => n + (e.liveRows ?? e.rows), 0),
});

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Live rows per version as lancedb counts them, on a temporary copy (lancedb must never touch the corpus). */
async function lancedbCounts(rel: string): Promise<Map<number, number | Error>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-lance-corpus-'));
  tmpDirs.push(tmp);
  fs.cpSync(path.join(corpus, rel), path.join(tmp, 'copy.lance'), { recursive: true });
  const table = await (await lancedb.connect(tmp)).openTable('copy');
  const out = new Map<number, number | Error>();
  for (const { version } of await table.listVersions()) {
    try {
      await table.checkout(version);
      out.set(version, await table.countRows());
    } catch (e) {
      out.set(version, e as Error);
    }
  }
  table.close();
  return out;
}

describeWithCorpus('lance', 'lance corpus', () => {
  const datasets = findDatasets(corpus);

  describe('lance corpus: newest version of each dataset', () => {
    it('finds every dataset this test knows', () => {
      expect(datasets).toEqual(expect.arrayContaining(Object.keys(EXPECTED)));
    });

    for (const rel of datasets) {
      it(rel, async () => {
        const expected = EXPECTED[rel];
        const result = await snapshotLocalTable(lanceScanner, path.join(corpus, rel)).catch((e: unknown) => e);
        if (expected && 'error' in expected) {
          expect(LakemapError.is(result)).toBe(true);
          expect((result as Error).message).toMatch(expected.error);
          return;
        }
        if (!(result as TableSnapshot).entries) throw result; // an unknown dataset must map, or be listed above with its reason
        const snap = result as TableSnapshot;
        if (expected) {
          expect(totals(snap)).toEqual({ physical: expected.physical, live: expected.live });
          const warnings = [...(snap.warnings ?? []), ...snap.entries.flatMap((e) => e.warnings ?? [])].join('\n');
          if (expected.warning) expect(warnings).toMatch(expected.warning);
        }
      });
    }
  });

  describe('lance corpus: data-file footers', () => {
    it('give the physical rows recorded by writers that recorded them, for legacy and v2 files alike', async () => {
      const seen = new Set<string>();
      for (const rel of datasets) {
        const storage = new LocalStorage(path.join(corpus, rel));
        for (const loc of (await listVersions(storage)).versions) {
          const manifest = await readManifestFile(storage, loc.path);
          if (manifest.writerVersion === null) continue; // counts not trusted, checked against lancedb above
          for (const frag of manifest.fragments) {
            for (const file of frag.files) {
              if (frag.physicalRows === 0 || !fs.existsSync(path.join(corpus, rel, 'data', file.path))) continue;
              const footer = await readDataFileFooter(storage, `data/${file.path}`);
              expect({ file: `${rel}/${file.path}`, rows: footer.rows }).toEqual({ file: `${rel}/${file.path}`, rows: frag.physicalRows });
              seen.add(footer.formatVersion);
            }
          }
        }
      }
      expect([...seen].sort()).toEqual(expect.arrayContaining(['0.2', '0.3'])); // legacy and 2.0 footers both exercised
    });
  });

  describe('lance corpus: every version agrees with lancedb', () => {
    for (const rel of datasets) {
      it(rel, async () => {
        const oracle = await lancedbCounts(rel);
        expect(oracle.size).toBeGreaterThan(0);
        for (const [version, count] of oracle) {
          const ours = await snapshotLocalTable(lanceScanner, path.join(corpus, rel), { version }).catch((e: unknown) => e);
          if (count instanceof Error) {
            // Lance cannot count it either (missing data files): we must fail, not guess.
            expect(LakemapError.is(ours)).toBe(true);
          } else {
            if (!(ours as TableSnapshot).entries) throw ours;
            expect({ version, live: totals(ours as TableSnapshot).live }).toEqual({ version, live: count });
          }
        }
      });
    }
  });
});

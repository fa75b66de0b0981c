// Vitest config for mutation testing (npm run mutate): the in-process suites only.
// - Excluded: suites that only run the built package (dist/) in child processes (CLI, crash, workers,
//   processes, packaging, tmux) or need long external setups (s3fs mounts, tsc over the docs, flatc):
//   Stryker mutates src/ and scanners/, never dist/, so these could kill no mutant and only slow each run.
// - A few suites mix in-process tests with one child-process test on dist/ (engine-close, engine-events,
//   scan-faults). Without dist/ those would fail the dry run, so they are left out unless `npm run build`
//   ran first (dist/ is copied into Stryker's sandbox; its tests then see the unmutated build).
// - MUTATE_TESTS narrows the run to the suites that cover the files being mutated (comma-separated globs),
//   e.g. MUTATE_TESTS='test/parquet*.test.ts' npx stryker run --mutate scanners/parquet/thrift.ts
//   Fewer suites can only lower the score, never raise it; a narrowed run is a lower bound.
// - MUTATE_EXCLUDE leaves suites out the same way (comma-separated globs), e.g. MUTATE_EXCLUDE='test/watch-*.test.ts'
//   when native file watching cannot start on a shared machine (inotify instances are per user) and the
//   watch suites' "parcel" runs fail the dry run. Also a lower bound.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// Stryker runs the suite in .stryker-tmp/sandbox-XXXX/, two levels below the checkout, so the corpus the
// tests find at `../shared/corpus` beside the checkout would be looked for in .stryker-tmp/shared: link it.
const here = path.dirname(fileURLToPath(import.meta.url));
if (path.basename(here).startsWith('sandbox-')) {
  const link = path.resolve(here, '../shared');
  const shared = path.resolve(here, '../../../shared');
  if (!fs.existsSync(link) && fs.existsSync(shared)) {
    try {
      fs.symlinkSync(shared, link, 'dir');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // the other test-runner process won
    }
  }
}

const childProcessOnly = [
  // not cli-progress: it renders progress lines in-process
  'test/cli.test.ts',
  'test/cli-commands.test.ts',
  'test/cli-lazy-loading.test.ts',
  'test/cli-object-store.test.ts',
  'test/cli-read.test.ts',
  'test/cli-tmux.test.ts',
  'test/read-lance-cli.test.ts',
  'test/crash*.test.ts',
  'test/engine-processes.test.ts',
  'test/workers*.test.ts',
  'test/watch-cli.test.ts',
  'test/watch-s3fs.test.ts',
  'test/s3fs-*.test.ts',
  'test/package/**',
  'test/*tmux*.test.ts',
  'test/docs-snippets.test.ts',
  'test/vortex-flatc.test.ts',
];
// Compares a refresh's resolved (realpath'd) source with the corpus path, which in the sandbox is the link
// above: it fails there whatever the mutant.
const linkedCorpusUnfit = ['test/iceberg-volume.test.ts'];
const mixedWithDist = ['test/engine-close.test.ts', 'test/engine-events.test.ts', 'test/scan-faults.test.ts'];
const hasDist = fs.existsSync(fileURLToPath(new URL('./dist/src/index.js', import.meta.url)));
const narrowed = process.env.MUTATE_TESTS?.split(',').map((s) => s.trim()).filter(Boolean);
const excluded = process.env.MUTATE_EXCLUDE?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];

const config = mergeConfig(
  base,
  defineConfig({ test: { exclude: [...childProcessOnly, ...linkedCorpusUnfit, ...(hasDist ? [] : mixedWithDist), ...excluded, '**/node_modules/**'] } }),
);
// mergeConfig concatenates arrays, so a narrowed include replaces the base one here.
if (narrowed?.length) config.test!.include = narrowed;
export default config;

// Vitest config for mutation testing (npm run mutate): the in-process suites only. Suites that run the
// built package in child processes (CLI, crash, workers, packaging) test dist/, which Stryker does not
// mutate, so they could kill no mutant and would only slow each run.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['test/cli*.test.ts', 'test/crash*.test.ts', 'test/workers*.test.ts', 'test/package*.test.ts', 'test/tmux*.test.ts', '**/node_modules/**'],
    },
  }),
);

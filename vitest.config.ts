import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests and docs examples import the package by name, as a user would; here it maps to the sources.
    alias: { lakemap: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Hang guards, not speed checks (tests assert outcomes): on the loaded 2-core dev machine (load ~15)
    // several CLI and object-store tests took 20-30 s of the former 60 s, so CI under load must not fail
    // on time alone.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});

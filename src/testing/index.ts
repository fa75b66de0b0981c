/**
 * `lakemap/testing`: a kit for scanner authors. {@link checkScanner} runs the scanner contract
 * against your own sample files (the built-in scanners pass it too); the fixture helpers write sample
 * and damaged files for your tests.
 *
 * @example
 * ```ts
 * import { assertScannerConforms, fixtureDir, writeFixtures } from 'lakemap/testing';
 * const dir = fixtureDir();
 * writeFixtures(dir, { 'a.jsonl': '{"id":1}\n{"id":2}\n' });
 * await assertScannerConforms(jsonlScanner, { source: dir });
 * ```
 * @module
 */
export { assertScannerConforms, checkScanner } from './conformance.js';
export type { ConformanceOptions, ConformanceReport } from './conformance.js';
export { corruptVariants, fixtureDir, writeFixtures } from './fixtures.js';
export type { CorruptVariant } from './fixtures.js';

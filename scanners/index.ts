import type { Scanner } from '../src/scanner.js';
import { icebergScanner } from './iceberg/index.js';
import { lanceScanner } from './lance/index.js';
import { parquetScanner } from './parquet/index.js';
import { vortexScanner } from './vortex/index.js';

/** The scanners every engine starts with; registered exactly as a user's scanner would be. */
export const builtinScanners: readonly Scanner[] = [parquetScanner, vortexScanner, lanceScanner, icebergScanner];

export { icebergScanner, lanceScanner, parquetScanner, vortexScanner };

/**
 * The Vortex scanner: maps a directory of `*.vortex` files (the stable file format of Vortex 0.36 and
 * later) by reading each file's footer only.
 *
 * @module
 */
import type { FileScanner } from '../../src/scanner.js';
import { probeVortexFile } from './probe.js';

/**
 * Scanner for Vortex files (`format: 'vortex'`). Each file gives its row count from the root layout,
 * one unit per top-level chunk (row ranges every column's chunks align with, with bytes from the
 * segment map), an Arrow schema mapped from the file's dtype, and `details`:
 * `{ version, root, encodings, layouts, segments, fieldStats? }`.
 *
 * Legacy files (before 0.36, ending in `VRTX`) and unknown version tags are refused with `UNSUPPORTED`;
 * bad magic, truncation and out-of-range offsets with `CORRUPT_FILE`.
 *
 * @example
 * ```ts
 * const engine = new RefreshEngine({ root, scanners: [vortexScanner] });
 * ```
 */
export const vortexScanner: FileScanner = {
  kind: 'file',
  format: 'vortex',
  extensions: ['.vortex'],
  tailBytes: 65536,
  workerModule: { url: import.meta.url, exportName: 'vortexScanner' },
  probe: (file) => probeVortexFile(file),
};

import type { Scanner } from '../src/scanner.js';

/** The scanners every engine starts with; registered exactly as a user's scanner would be. */
export const builtinScanners: readonly Scanner[] = [];

// The engine registers the built-in scanners as stand-ins (scanners/builtin.ts) that load on first
// use; each must look exactly like the scanner it stands for, or a refresh would list, warm workers
// or check specs differently before the real one is swapped in.
import { describe, expect, it } from 'vitest';
import { builtinStandIns, isStandIn, loadScanner } from '../scanners/builtin.js';
import { builtinScanners, parquetScanner } from '../scanners/index.js';
import type { Scanner } from '../src/scanner.js';

/** Everything but the functions, with a worker module's source file named as built. */
function shape(s: Scanner): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (typeof v !== 'function') out[k] = v;
  if (s.kind === 'file' && s.workerModule) out.workerModule = { ...s.workerModule, url: s.workerModule.url.replace(/\.ts$/, '.js') };
  return out;
}

describe('built-in scanner stand-ins', () => {
  it('stand for the built-in scanners, in order, with the same shape', async () => {
    expect(builtinStandIns.map((s) => s.format)).toEqual(builtinScanners.map((s) => s.format));
    for (const [i, stand] of builtinStandIns.entries()) {
      const real = builtinScanners[i]!;
      expect(isStandIn(stand)).toBe(true);
      expect(await loadScanner(stand)).toBe(real);
      expect(shape(stand)).toEqual(shape(real));
      // A stand-in has no validateSpec: a file scanner's real one has none either, a table scanner is loaded before its spec is checked.
      expect(stand.validateSpec).toBeUndefined();
      if (real.kind === 'file') expect(real.validateSpec).toBeUndefined();
    }
  });

  it('leave any other scanner as it is', async () => {
    const mine: Scanner = { ...parquetScanner, format: 'mine' };
    expect(isStandIn(mine)).toBe(false);
    expect(await loadScanner(mine)).toBe(mine);
  });
});

/**
 * The built-in scanners as an engine registers them: each one's shape (kind, format, extensions …)
 * at once, its code on first use. The scanners' modules pull in apache-arrow (~150 ms of CPU to
 * load), which a no-change refresh, `describe`, `show` and the other manifest reads never need.
 *
 * A stand-in is a working scanner (its `probe` or `snapshot` loads the real one), but the engine
 * swaps in the real scanner with {@link loadScanner} before it scans, so probes run the scanner's
 * own code (synchronous probes stay synchronous) and `validateSpec` runs. Users still import the
 * real objects from `scanners/index.ts`; a scanner a user registers is used as it is.
 *
 * @module
 */
import type { FileScanner, Scanner, TableScanner } from '../src/scanner.js';

/** The real scanner behind each stand-in. */
const loaders = new WeakMap<Scanner, () => Promise<Scanner>>();

/** The real scanner for a stand-in made here; any other scanner as it is. */
export function loadScanner(scanner: Scanner): Promise<Scanner> {
  const load = loaders.get(scanner);
  return load ? load() : Promise.resolve(scanner);
}

/** True while `scanner` is a stand-in (its module not swapped in). */
export function isStandIn(scanner: Scanner): boolean {
  return loaders.has(scanner);
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/** A file scanner's stand-in; `module` (relative to this file) is the one its `workerModule` names. */
function fileStandIn(shape: Omit<FileScanner, 'probe' | 'workerModule'>, module: string, exportName: string, load: () => Promise<FileScanner>): FileScanner {
  const real = once(load);
  const stand: FileScanner = {
    ...shape,
    workerModule: { url: new URL(module, import.meta.url).href, exportName },
    probe: async (file, ctx) => (await real()).probe(file, ctx),
  };
  loaders.set(stand, real);
  return stand;
}

/** A table scanner's stand-in (without `validateSpec`: the engine loads table scanners before it scans). */
function tableStandIn(shape: Omit<TableScanner, 'snapshot' | 'validateSpec'>, load: () => Promise<TableScanner>): TableScanner {
  const real = once(load);
  const stand: TableScanner = { ...shape, snapshot: async (source, ctx) => (await real()).snapshot(source, ctx) };
  loaders.set(stand, real);
  return stand;
}

/** Stand-ins for the built-in scanners, in `builtinScanners` order. A test checks each shape against the real scanner's. */
export const builtinStandIns: readonly Scanner[] = [
  fileStandIn({ kind: 'file', format: 'parquet', extensions: ['.parquet'], tailBytes: 16 * 1024 }, './parquet/index.js', 'parquetScanner', async () => (await import('./parquet/index.js')).parquetScanner),
  fileStandIn({ kind: 'file', format: 'vortex', extensions: ['.vortex'], tailBytes: 65536 }, './vortex/index.js', 'vortexScanner', async () => (await import('./vortex/index.js')).vortexScanner),
  tableStandIn({ kind: 'table', format: 'lance-table' }, async () => (await import('./lance/index.js')).lanceScanner),
  tableStandIn({ kind: 'table', format: 'iceberg-table', mapsBesideTable: true }, async () => (await import('./iceberg/index.js')).icebergScanner),
];

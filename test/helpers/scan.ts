// Test helpers: run one scanner directly on local files, the way the engine calls it.
import * as path from 'node:path';
import { LocalStorage } from '../../src/storage/local.js';
import type { ExternalSpec, FileProbe, FileScanner, ProbeFile, TableScanner, TableSnapshot } from '../../src/scanner.js';

/** Probes one local file with a file scanner (tail read as the engine reads it). */
export async function probeLocalFile(scanner: FileScanner, file: string, spec: Partial<ExternalSpec> = {}): Promise<FileProbe> {
  const storage = new LocalStorage(path.dirname(file));
  const rel = path.basename(file);
  const { tail, size, mtimeMs } = storage.readTailSync(rel, scanner.tailBytes ?? 64 * 1024);
  const probeFile: ProbeFile = { path: rel, size, mtimeMs, tail, read: (o, l) => storage.read(rel, o, l) };
  return scanner.probe(probeFile, { spec: { format: scanner.format, ...spec }, signal: new AbortController().signal });
}

/** Resolves a table snapshot of a local table directory with a table scanner. */
export async function snapshotLocalTable(scanner: TableScanner, dir: string, spec: Partial<ExternalSpec> = {}): Promise<TableSnapshot> {
  const storage = new LocalStorage(dir);
  return scanner.snapshot(storage, {
    spec: { format: scanner.format, ...spec },
    signal: new AbortController().signal,
    progress: () => {},
  });
}

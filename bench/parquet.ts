/**
 * Parquet probe benchmark: the scanner's `probe` alone over every `.parquet` file of a lake, with the
 * tails read beforehand (the engine's end-to-end benchmark, `bench/run.ts`, measures the rest).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { FileProbe, ProbeFile, ScanContext } from '../src/scanner.js';
import { LocalStorage } from '../src/storage/local.js';
import { clearParquetSchemaCache, parquetScanner } from '../scanners/parquet/index.js';

/** What {@link parquetProbeBench} measured. */
export interface ParquetProbeBenchResult {
  /** Files probed per pass. */
  files: number;
  /** Microseconds per file for reading the tails (synchronous reads, warm page cache). */
  tailReadMicros: number;
  /** Microseconds per file for the first pass (schemas mapped once, then memoized). */
  coldProbeMicros: number;
  /** Microseconds per file over the following passes. */
  probeMicros: number;
  /** Files whose footer did not fit in the tail (asynchronous path). */
  asyncFiles: number;
}

/**
 * Measures `parquetScanner.probe` over every `.parquet` file below `dir` and logs one line per figure.
 *
 * @example
 * ```ts
 * await parquetProbeBench('/tmp/lake', console.log);
 * // parquet probe: 10000 files, 6.1 µs/file (164k files/s); cold pass 9.8 µs/file; tail read 11.2 µs/file
 * ```
 */
export async function parquetProbeBench(dir: string, log: (line: string) => void): Promise<ParquetProbeBenchResult> {
  const storage = new LocalStorage(dir);
  const stats = storage.listSync('').filter((f) => f.path.endsWith('.parquet'));
  if (stats.length === 0) throw new Error(`no .parquet files below ${dir}`);
  const tailBytes = parquetScanner.tailBytes ?? 64 * 1024;

  let t0 = performance.now();
  const files: ProbeFile[] = stats.map((st) => {
    const { tail, size, mtimeMs } = storage.readTailSync(st.path, tailBytes);
    return { path: st.path, size, mtimeMs, tail, read: (o: number, l: number) => storage.read(st.path, o, l) };
  });
  const tailReadMicros = ((performance.now() - t0) * 1000) / files.length;

  const ctx: ScanContext = { spec: { format: 'parquet' }, signal: new AbortController().signal };
  let asyncFiles = 0;
  const pass = async (): Promise<void> => {
    asyncFiles = 0;
    for (const file of files) {
      const out: FileProbe | Promise<FileProbe> = parquetScanner.probe(file, ctx);
      if (out instanceof Promise) {
        asyncFiles++;
        await out;
      }
    }
  };

  clearParquetSchemaCache();
  t0 = performance.now();
  await pass();
  const coldProbeMicros = ((performance.now() - t0) * 1000) / files.length;

  let passes = 0;
  t0 = performance.now();
  do {
    await pass();
    passes++;
  } while (performance.now() - t0 < 1000 && passes < 50);
  const probeMicros = ((performance.now() - t0) * 1000) / (files.length * passes);

  const perSecond = Math.round(1e6 / probeMicros);
  log(
    `parquet probe: ${files.length} files, ${probeMicros.toFixed(1)} µs/file (${perSecond.toLocaleString('en-US')} files/s, ${passes} passes); ` +
      `first pass ${coldProbeMicros.toFixed(1)} µs/file; tail read ${tailReadMicros.toFixed(1)} µs/file; ${asyncFiles} footers outside the tail`,
  );
  return { files: files.length, tailReadMicros, coldProbeMicros, probeMicros, asyncFiles };
}

/**
 * Vortex probe benchmark: `vortexScanner.probe` on in-memory files shaped like the default Vortex writer's
 * output (struct → per column zoned → chunked → flat), from small to wide footers. Files come from the
 * test-only fixture writer, so this measures footer decoding, not I/O.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { writeVortexFile } from '../fixtures/vortex/file-writer.js';
import { PType, type FixtureDType } from '../fixtures/vortex/flatbuffers.js';
import { chunked, flat, structOf, zoned } from '../fixtures/vortex/samples.js';
import { vortexScanner } from '../scanners/vortex/index.js';
import type { ProbeFile, ScanContext } from '../src/scanner.js';

/** One measured file shape. */
export interface VortexBenchCase {
  /** Columns × chunks per column. */
  shape: string;
  /** Bytes of the file's footer region (dtype, layout, statistics, footer, postscript). */
  footerBytes: number;
  /** Microseconds per probe. */
  probeMicros: number;
}

/**
 * Measures `vortexScanner.probe` for several footer sizes and logs one line per shape.
 *
 * @example
 * ```ts
 * await vortexBench(console.log);
 * // vortex probe 10 cols × 4 chunks: footer 3.1 KiB, 41.0 µs/probe
 * ```
 */
export async function vortexBench(log: (line: string) => void): Promise<VortexBenchCase[]> {
  const ctx: ScanContext = { spec: { format: 'vortex' }, signal: new AbortController().signal };
  const out: VortexBenchCase[] = [];
  for (const [columns, chunks] of [[10, 4], [100, 16], [400, 64]] as const) {
    const fields: [string, FixtureDType][] = Array.from({ length: columns }, (_, i) => [`c${i}`, { kind: 'primitive', ptype: PType.I64 }]);
    const column = () => zoned(chunked(Array.from({ length: chunks }, () => flat(8192, 0))), chunks);
    const r = writeVortexFile({ dtype: { kind: 'struct', fields }, layout: structOf(8192 * chunks, fields.map(column)) });
    const bytes = r.bytes;
    const tail = bytes.subarray(Math.max(0, bytes.length - (vortexScanner.tailBytes ?? 65536)));
    const file: ProbeFile = {
      path: `bench-${columns}x${chunks}.vortex`, size: bytes.length, mtimeMs: 0, tail,
      read: async (o, l) => bytes.subarray(o, o + l),
    };
    const iterations = Math.max(5, Math.round(20_000 / (columns * chunks)));
    await vortexScanner.probe(file, ctx); // warm up
    const started = performance.now();
    for (let i = 0; i < iterations; i++) await vortexScanner.probe(file, ctx);
    const probeMicros = ((performance.now() - started) * 1000) / iterations;
    const footerBytes = bytes.length - Number(r.footerSegments.dtype!.offset);
    out.push({ shape: `${columns}x${chunks}`, footerBytes, probeMicros });
    log(`vortex probe ${columns} cols × ${chunks} chunks: footer ${(footerBytes / 1024).toFixed(1)} KiB, ${probeMicros.toFixed(1)} µs/probe`);
  }
  return out;
}

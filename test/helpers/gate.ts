// A jsonl scanner whose probes wait until a gate opens, so a test can act while a refresh runs.
import { jsonlScanner } from '../../docs/examples/jsonl-scanner.js';
import type { FileScanner } from 'lakemap';

/**
 * A gated scanner: probes wait for `open()`. `aborted` resolves once a waiting probe's refresh is cancelled
 * (its signal aborts), so a test can wait for a cancel to reach the job instead of sleeping.
 */
export function gatedScanner(): { scanner: FileScanner; open: () => void; probing: Promise<void>; aborted: Promise<void> } {
  let open!: () => void;
  let started!: () => void;
  let sawAbort!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const probing = new Promise<void>((r) => (started = r));
  const aborted = new Promise<void>((r) => (sawAbort = r));
  const scanner: FileScanner = {
    ...jsonlScanner,
    async probe(file, ctx) {
      started();
      if (ctx.signal.aborted) sawAbort();
      else ctx.signal.addEventListener('abort', () => sawAbort(), { once: true });
      await gate;
      return jsonlScanner.probe(file, ctx);
    },
  };
  return { scanner, open, probing, aborted };
}

// A jsonl scanner whose probes wait until a gate opens, so a test can act while a refresh runs.
import { jsonlScanner } from '../../docs/examples/jsonl-scanner.js';
import type { FileScanner } from 'lakemap';

/** A gated scanner: probes wait for `open()`. */
export function gatedScanner(): { scanner: FileScanner; open: () => void; probing: Promise<void> } {
  let open!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const probing = new Promise<void>((r) => (started = r));
  const scanner: FileScanner = {
    ...jsonlScanner,
    async probe(file, ctx) {
      started();
      await gate;
      return jsonlScanner.probe(file, ctx);
    },
  };
  return { scanner, open, probing };
}

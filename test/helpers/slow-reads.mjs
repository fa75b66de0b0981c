// Preload (`node --import ./test/helpers/slow-reads.mjs`): every synchronous file read blocks for
// LAKEMAP_SLOW_READ_MS milliseconds, so a refresh of a few thousand files lasts long enough to be
// interrupted. It blocks the thread, as a slow disk does to synchronous reads. The main thread
// writes one line to stderr when it first opens a .parquet file, so a test knows the scan has begun.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { isMainThread } from 'node:worker_threads';

export const SCAN_STARTED = 'slow-reads: scan started';

const ms = Number(process.env.LAKEMAP_SLOW_READ_MS);
if (ms > 0) {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const readSync = fs.readSync;
  fs.readSync = function (...args) {
    Atomics.wait(cell, 0, 0, ms);
    return readSync.apply(this, args);
  };
  const openSync = fs.openSync;
  let announced = !isMainThread;
  fs.openSync = function (file, ...rest) {
    if (!announced && String(file).endsWith('.parquet')) {
      announced = true;
      process.stderr.write(`${SCAN_STARTED}\n`);
    }
    return openSync.call(this, file, ...rest);
  };
  syncBuiltinESMExports();
}

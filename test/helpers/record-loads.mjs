// `node --import <this file>`: appends the URL of every module the process loads to the file named by
// LAKEMAP_RECORD_LOADS (one per line), so a test can tell which modules a command needed. A worker thread
// started is recorded too, as `worker:<entry>`, when it is constructed: an unreferenced worker may not
// have loaded anything yet when a short command exits.
import { appendFileSync } from 'node:fs';
import { register, syncBuiltinESMExports } from 'node:module';
import wt from 'node:worker_threads';

register(new URL('./record-loads-hook.mjs', import.meta.url));

const log = process.env.LAKEMAP_RECORD_LOADS;
if (log && wt.isMainThread) {
  const Base = wt.Worker;
  wt.Worker = class extends Base {
    constructor(entry, ...rest) {
      appendFileSync(log, `worker:${String(entry)}\n`);
      super(entry, ...rest);
    }
  };
  syncBuiltinESMExports();
}

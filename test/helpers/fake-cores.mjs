// Preload (`node --import ./test/helpers/fake-cores.mjs`): Node reports LAKEMAP_FAKE_CORES cores
// through os.availableParallelism() and os.cpus(), so the engine's multi-core defaults can be
// tested on a 2-core machine. Worker threads inherit the preload (execArgv) and the variable.
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';

const n = Number(process.env.LAKEMAP_FAKE_CORES);
if (Number.isSafeInteger(n) && n > 0) {
  const real = os.cpus();
  const one = real[0] ?? { model: 'fake', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
  os.availableParallelism = () => n;
  os.cpus = () => Array.from({ length: n }, () => ({ ...one, times: { ...one.times } }));
  syncBuiltinESMExports();
}

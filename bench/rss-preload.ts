// Preloaded (`node --import`) into CLI runs by the bench: writes the process's peak RSS (KiB) to
// $LAKEMAP_BENCH_RSS_FILE on exit, so the bench needs no external `time` tool.
import * as fs from 'node:fs';

const out = process.env.LAKEMAP_BENCH_RSS_FILE;
if (out) process.on('exit', () => fs.writeFileSync(out, String(process.resourceUsage().maxRSS)));

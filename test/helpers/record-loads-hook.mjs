// Loader hook of record-loads.mjs (runs on the loader thread).
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  if (process.env.LAKEMAP_RECORD_LOADS) appendFileSync(process.env.LAKEMAP_RECORD_LOADS, `${url}\n`);
  return next(url, context);
}

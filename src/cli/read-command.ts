// `lakemap read <collection> [segment]`: a collection's (or one segment's) rows as JSON Lines or an
// Arrow IPC stream on stdout.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { RefreshEngine } from '../engine/engine.js';
import { LakemapError } from '../errors.js';
import type { CliIO } from './main.js';

/** Usage line of the read command. */
export const READ_USAGE = 'lakemap read <collection> [segment] [--columns a,b] [--limit N] [--version N] [--format jsonl|arrow]';

/** Runs `lakemap read …` (`argv` after the word `read`); resolves to the exit code. */
export async function runReadCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string', default: '.lakemap' },
        db: { type: 'string', default: 'default' },
        columns: { type: 'string' },
        limit: { type: 'string' },
        version: { type: 'string' },
        format: { type: 'string', default: 'jsonl' },
      },
    });
  } catch (e) {
    throw new LakemapError('INVALID_ARGUMENT', `${(e as Error).message}\nusage: ${READ_USAGE}`);
  }
  const { values: o, positionals } = parsed;
  const [collectionName, segmentId, extra] = positionals;
  if (!collectionName || extra !== undefined) throw new LakemapError('INVALID_ARGUMENT', `usage: ${READ_USAGE}`);
  if (o.format !== 'jsonl' && o.format !== 'arrow') throw new LakemapError('INVALID_ARGUMENT', `--format must be jsonl or arrow, not ${o.format}`);
  const limit = o.limit === undefined ? Infinity : Number(o.limit);
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) throw new LakemapError('INVALID_ARGUMENT', '--limit must be a non-negative integer');
  const version = o.version === undefined ? undefined : Number(o.version);
  if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw new LakemapError('INVALID_ARGUMENT', '--version must be a positive integer');
  const engine = new RefreshEngine({ root: o.root, workers: 0 });
  const req = {
    collectionName,
    dbName: o.db,
    ...(version ? { version } : {}),
    ...(o.columns ? { columns: o.columns.split(',').map((c) => c.trim()).filter((c) => c !== '') } : {}),
  };
  const batches = segmentId ? engine.readSegment({ ...req, segmentId }) : engine.readCollection(req);
  const limited = take(batches, limit);
  if (o.format === 'jsonl') {
    for await (const b of limited) {
      let text = '';
      for (const row of b) text += `${JSON.stringify(row?.toJSON(), jsonValue)}\n`;
      await write(io.stdout, text);
    }
  } else {
    const writer = new RecordBatchStreamWriter();
    const pump = (async () => {
      for await (const chunk of writer) await write(io.stdout, chunk);
    })();
    try {
      for await (const b of limited) writer.write(b);
    } finally {
      writer.close();
      await pump;
    }
  }
  return 0;
}

/** At most `limit` rows (the last batch sliced). */
async function* take(batches: AsyncIterable<RecordBatch>, limit: number): AsyncGenerator<RecordBatch> {
  let left = limit;
  if (left <= 0) return;
  for await (const b of batches) {
    if (b.numRows >= left) {
      yield b.slice(0, left);
      return;
    }
    left -= b.numRows;
    yield b;
  }
}

/** JSON for Arrow values: 64-bit integers as numbers when exact, else strings; bytes as base64. */
function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64');
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

async function write(stream: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

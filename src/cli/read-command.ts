// `lakemap read <collection> [segment]`: a collection's (or one segment's) rows as JSON Lines or an
// Arrow IPC stream on stdout.
import { once } from 'node:events';
import type { RecordBatch } from 'apache-arrow';
import { UsageError, type Command } from './command.js';

export const readCommand: Command = {
  name: 'read',
  summary: "a collection's rows (or one segment's) as JSON Lines or an Arrow IPC stream",
  args: ['collection'],
  optionalArgs: ['segment'],
  options: {
    columns: { type: 'string', value: 'A,B', help: 'fields to read, in this order (default all)' },
    limit: { type: 'string', value: 'N', help: 'stop after N rows' },
    version: { type: 'string', value: 'N', help: 'manifest version to read (default: current)' },
    format: { type: 'string', value: 'jsonl|arrow', help: 'jsonl (default) or arrow (an Arrow IPC stream)' },
  },
  description: "Reads exactly the rows the manifest maps (deletes applied), with the collection's field names and types.",
  examples: ['read trips --limit 10', 'read trips 3f2a9c0d1e4b5a6c7d8e --columns id,vec --format arrow > seg.arrows'],
  async run({ args: [collectionName, segmentId], values: o, io, engine, dbName }) {
    const format = (o.format as string | undefined) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'arrow') throw new UsageError(`--format must be jsonl or arrow, not ${format}`);
    const limit = o.limit === undefined ? Infinity : Number(o.limit);
    if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) throw new UsageError('--limit must be a non-negative integer');
    const version = o.version === undefined ? undefined : Number(o.version);
    if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) throw new UsageError('--version must be a positive integer');
    const columns = typeof o.columns === 'string' ? o.columns.split(',').map((c) => c.trim()).filter((c) => c !== '') : undefined;
    const req = { collectionName: collectionName!, dbName, ...(version ? { version } : {}), ...(columns ? { columns } : {}) };
    const batches = take(segmentId ? engine.readSegment({ ...req, segmentId }) : engine.readCollection(req), limit);
    if (format === 'jsonl') {
      for await (const b of batches) {
        let text = '';
        for (const row of b) text += `${JSON.stringify(row?.toJSON(), jsonValue)}\n`;
        await write(io.stdout, text);
      }
      return 0;
    }
    const { RecordBatchStreamWriter } = await import('apache-arrow'); // loaded here: the other commands never need it
    const writer = new RecordBatchStreamWriter();
    const pump = (async () => {
      for await (const chunk of writer) await write(io.stdout, chunk);
    })();
    try {
      for await (const b of batches) writer.write(b);
    } finally {
      writer.close();
      await pump;
    }
    return 0;
  },
};

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

// Polling an object-store listing through the SourceStorage contract (what s3:// and az:// sources use),
// with a small in-memory storage standing in for the object store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListingPollSource } from '../src/watch/poll-listing.js';
import { startChangeSource } from '../src/watch/choose.js';
import { changeFilter } from '../src/watch/filter.js';
import { nextPollDelay } from '../src/watch/poll-loop.js';
import type { FileStat, SourceStorage } from '../src/scanner.js';
import { icebergScanner, parquetScanner } from '../scanners/index.js';
import { FakeClock, freezePerformanceNow } from './helpers/fake-clock.js';

/** An object store in memory: path → size, last-modified and ETag. */
class MemoryStorage implements SourceStorage {
  readonly root = 's3://bucket/lake';
  objects = new Map<string, FileStat & { etag: string }>();
  lists: string[] = [];
  put(path: string, size: number, mtimeMs: number, etag: string): void {
    this.objects.set(path, { path, size, mtimeMs, etag });
  }
  async stat(p: string) { return this.objects.get(p); }
  async read(): Promise<Uint8Array> { throw new Error('not used'); }
  async readFile(): Promise<Uint8Array> { throw new Error('not used'); }
  async list(dir = ''): Promise<FileStat[]> {
    this.lists.push(dir);
    return [...this.objects.values()].filter((o) => dir === '' || o.path.startsWith(`${dir}/`)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }
}

describe('listing poll (object stores)', () => {
  // Each advance(1000) below is one poll: a pass must not take real time that stretches the interval.
  let thaw: () => void;
  beforeEach(() => (thaw = freezePerformanceNow()));
  afterEach(() => thaw());

  it('reports added, removed and rewritten objects, including a rewrite only the ETag shows', async () => {
    const store = new MemoryStorage();
    store.put('a.parquet', 100, 1000, '"e1"');
    store.put('b.parquet', 200, 1000, '"e2"');
    store.put('notes.txt', 5, 1000, '"e3"');
    const src = new ListingPollSource(store, changeFilter(parquetScanner, { format: 'parquet' }), 'test', { clock: new FakeClock(), intervalMs: 1000 });
    expect(await src.pass()).toEqual([]); // the first pass records
    store.put('c.parquet', 300, 2000, '"e4"');
    store.objects.delete('a.parquet');
    store.put('notes.txt', 6, 2000, '"e5"'); // not a data file: ignored
    expect((await src.pass()).sort()).toEqual(['a.parquet', 'c.parquet']);
    store.put('b.parquet', 200, 1000, '"e9"'); // same size and time, new content
    expect(await src.pass()).toEqual(['b.parquet']);
    expect(await src.pass()).toEqual([]);
  });

  it('notes every change a refresh would list, temporary names (which trigger none) too, before triggering', async () => {
    const store = new MemoryStorage();
    store.put('a.parquet', 100, 1000, '"e1"');
    const calls: [string, string[]][] = [];
    const src = new ListingPollSource(store, changeFilter(parquetScanner, { format: 'parquet', files: ['**/*'] }), 'test', {
      clock: new FakeClock(),
      intervalMs: 1000,
      noted: (p) => calls.push(['noted', p]),
    });
    await src.start((p) => calls.push(['changed', p]), (e) => { throw e; });
    try {
      store.put('b.parquet.part', 5, 2000, '"e2"'); // a temporary name the full listing still lists under files: ['**/*']
      store.put('_staging/c.parquet', 5, 2000, '"e3"'); // never listed: neither
      store.put('a.parquet', 101, 2000, '"e4"');
      expect(await src.pass()).toEqual(['a.parquet']);
      expect(calls).toEqual([]); // pass() reports, it does not call back
      store.objects.delete('b.parquet.part');
      await (src as unknown as { tick(): Promise<void> }).tick();
      expect(calls).toEqual([['noted', ['b.parquet.part']]]);
      store.put('d.parquet', 5, 3000, '"e5"');
      store.put('d.parquet.tmp', 5, 3000, '"e6"');
      await (src as unknown as { tick(): Promise<void> }).tick();
      expect(calls.slice(1)).toEqual([['noted', ['d.parquet', 'd.parquet.tmp']], ['changed', ['d.parquet']]]);
    } finally {
      await src.close();
    }
  });

  it('lists only the commit prefix of a table and reports only commit files', async () => {
    const store = new MemoryStorage();
    store.put('metadata/v1.metadata.json', 10, 1, 'x');
    const clock = new FakeClock();
    const changes: string[][] = [];
    const src = await startChangeSource(
      { storage: store, filter: changeFilter(icebergScanner, { format: 'iceberg-table' }), listPrefix: 'metadata', clock, pollIntervalMs: 1000, fullPassEvery: 1 },
      (p) => changes.push(p),
      (e) => { throw e; },
    );
    try {
      expect(src.mechanism).toBe('poll-listing');
      expect(src.reason).toContain('s3://bucket/lake');
      store.put('data/a.parquet', 1, 2, 'y');
      store.put('metadata/snap-1.avro', 1, 2, 'y');
      await clock.advance(1000);
      expect(changes).toEqual([]);
      store.put('metadata/v2.metadata.json', 12, 3, 'z');
      await clock.advance(1000);
      expect(changes).toEqual([['metadata/v2.metadata.json']]);
      expect(new Set(store.lists)).toEqual(new Set(['metadata']));
    } finally {
      await src.close();
    }
  });

  it('stretches the interval to 20x the last pass and keeps polling after a listing error', async () => {
    expect(nextPollDelay(2000, 10)).toBe(2000);
    expect(nextPollDelay(2000, 500)).toBe(10_000);
    const store = new MemoryStorage();
    const clock = new FakeClock();
    const errors: string[] = [];
    let fail = false;
    const list = store.list.bind(store);
    store.list = async (d) => { if (fail) throw new Error('503 Slow Down'); return list(d); };
    const src = new ListingPollSource(store, changeFilter(parquetScanner, { format: 'parquet' }), 'test', { clock, intervalMs: 1000 });
    const changes: string[][] = [];
    await src.start((p) => changes.push(p), (e) => errors.push(e.message));
    fail = true;
    await clock.advance(1000);
    expect(errors).toEqual(['503 Slow Down']);
    fail = false;
    store.put('x.parquet', 1, 1, 'a');
    await clock.advance(1000);
    expect(changes).toEqual([['x.parquet']]);
    await src.close();
  });
});

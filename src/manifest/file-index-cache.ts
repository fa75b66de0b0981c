/**
 * The file index an engine loaded last for each collection, reused by its next refresh while the
 * version file is byte for byte the one it came from: a root names its chunks by content digest and
 * chunks are never rewritten, so the same root text means the same index. A repeated no-change
 * refresh then costs its listing alone, not the index's parse (~100 ms at 100k files).
 *
 * @module
 */
import * as fs from 'node:fs';
import type { ChunkIndexMemo } from './chunk-read.js';
import type { PreviousIndex } from './file-index.js';

/** See the module comment. Callers hold the collection's lock, so the file cannot change between the two reads. */
export class FileIndexCache {
  private readonly held = new Map<string, { text: string; index: PreviousIndex }>();
  private readonly memos = new Map<string, ChunkIndexMemo>();

  /** The chunk indexes this engine parsed last for collection `key` (see {@link ChunkIndexMemo}). */
  chunks(key: string): ChunkIndexMemo {
    let memo = this.memos.get(key);
    if (!memo) this.memos.set(key, (memo = new Map()));
    return memo;
  }

  /** The index of the version file `file` of collection `key`: the held one if the file is unchanged, else `load()`'s. */
  get(key: string, file: string, load: () => PreviousIndex | undefined): PreviousIndex | undefined {
    const held = this.held.get(key);
    const text = held ? readText(file) : undefined;
    if (held && held.text === text) return held.index;
    const index = load();
    // Read after the load, and only for a chunked version (a small root): an old single-file manifest is never read twice.
    const now = index ? (text ?? readText(file)) : undefined;
    if (index && now !== undefined) this.held.set(key, { text: now, index });
    else this.held.delete(key);
    return index;
  }

  /** Forgets a collection's index (dropped, repaired, or its manifest is held whole). */
  delete(key: string): void {
    this.held.delete(key);
    this.memos.delete(key);
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A remote object read by the synchronous decoders: the byte ranges a step needs are planned and
 * fetched first (ranged GETs, near ranges coalesced), then the decoder's reads are served from them.
 * A read of bytes that were not fetched is an `INTERNAL` error, never a hidden request. Every response
 * is checked against the identity the manifest recorded (size, and ETag or else mtime): another
 * object under the same key is `SOURCE_CHANGED`.
 */
import { LakemapError, corruptFile } from '../../errors.js';
import type { ObjectStorage, RangeResult } from '../../storage/object-store.js';
import { DEFAULT_READ_BUDGET, checkRead, type ByteSource } from '../source-file.js';

/** What the manifest recorded about an object. */
export interface ObjectIdentity {
  /** Size in bytes. */
  size: number;
  /** Normalized ETag, when recorded. */
  etag?: string | undefined;
  /** Modification time, epoch ms (0 or absent: not compared). */
  mtimeMs?: number | undefined;
  /** Who recorded it, for messages, e.g. `manifest version 3`. */
  by: string;
}

/** `[start, end)` in bytes. */
export type ByteRange = readonly [start: number, end: number];

/** Fetched bytes starting at `start`. */
export interface Piece {
  start: number;
  bytes: Uint8Array;
}

/** Ranges with less than this between them are fetched by one GET: a round trip costs more than the gap. */
export const COALESCE_GAP = 64 * 1024;

/** Sorted, merged ranges: overlapping ones and those closer than `gap`, as long as the merge stays within `limit` bytes. */
export function coalesce(ranges: readonly ByteRange[], gap: number, limit: number): ByteRange[] {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + gap && Math.max(e, last[1]) - last[0] <= limit) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** An object of known identity whose planned ranges are fetched, held while decoded, then dropped. */
export class ObjectFile implements ByteSource {
  readonly size: number;
  private held: Piece[] = [];
  /** Fetched pieces not dropped yet: what `stats.live` counts. */
  private readonly live = new Set<Piece>();
  /** GETs issued, bytes received, bytes fetched and not yet dropped (`live`) and their peak (tests and reports). */
  readonly stats = { gets: 0, bytes: 0, live: 0, peak: 0 };

  constructor(
    private readonly storage: ObjectStorage,
    readonly rel: string,
    private readonly expect: ObjectIdentity,
    readonly budget: number = DEFAULT_READ_BUDGET,
  ) {
    this.size = expect.size;
  }

  /**
   * Fetches `ranges` (checked against the size and the budget before any request), near ones in one
   * GET, all at once under the storage's request policy. The pieces are not readable until {@link hold}.
   */
  async fetch(ranges: readonly ByteRange[], what: string): Promise<Piece[]> {
    for (const [s, e] of ranges) checkRead(this, s, e - s, what);
    return Promise.all(
      coalesce(ranges, COALESCE_GAP, this.budget).map(async ([s, e]) => {
        this.stats.gets++;
        const r = await this.storage.readRange(this.rel, s, e - s);
        this.checkIdentity(r);
        this.stats.bytes += r.bytes.length;
        this.stats.live += r.bytes.length;
        this.stats.peak = Math.max(this.stats.peak, this.stats.live);
        if (r.bytes.length !== e - s) throw corruptFile(this.rel, `the object ended at byte ${s + r.bytes.length} while reading ${what} at [${s}, ${e}) (was it truncated?)`);
        const piece = { start: s, bytes: r.bytes };
        this.live.add(piece);
        return piece;
      }),
    );
  }

  /** Makes fetched pieces readable. */
  hold(pieces: readonly Piece[]): void {
    this.held.push(...pieces);
  }

  /** Forgets pieces (their memory goes once no batch refers to it). */
  drop(pieces: readonly Piece[]): void {
    this.held = this.held.filter((p) => !pieces.includes(p));
    for (const p of pieces) if (this.live.delete(p)) this.stats.live -= p.bytes.length;
  }

  /** Serves a read from a held piece; the result stays valid while the piece is held, so `scratch` is not needed. */
  read(offset: number, length: number, what: string): Uint8Array {
    checkRead(this, offset, length, what);
    const p = this.held.find((x) => offset >= x.start && offset + length <= x.start + x.bytes.length);
    if (!p) {
      const held = this.held.map((x) => `[${x.start}, ${x.start + x.bytes.length})`).join(', ') || 'none';
      throw new LakemapError('INTERNAL', `${this.rel}: ${what} at bytes [${offset}, ${offset + length}) was not fetched before decoding (held: ${held}); this is a lakemap bug, please report it`, { path: this.rel });
    }
    return p.bytes.subarray(offset - p.start, offset - p.start + length);
  }

  close(): void {
    this.drop([...this.live]);
    this.held = [];
  }

  private checkIdentity(r: RangeResult): void {
    const e = this.expect;
    const etagDiffers = e.etag !== undefined && r.etag !== undefined && e.etag !== r.etag;
    // Without an ETag, the mtime: whole seconds, as Last-Modified headers carry no milliseconds.
    const mtimeDiffers = e.etag === undefined && !!e.mtimeMs && !!r.mtimeMs && Math.floor(e.mtimeMs / 1000) !== Math.floor(r.mtimeMs / 1000);
    if (r.total === e.size && !etagDiffers && !mtimeDiffers) return;
    const what = r.total !== e.size ? `size ${e.size} → ${r.total}` : etagDiffers ? `ETag ${e.etag} → ${r.etag}` : `mtime ${e.mtimeMs} → ${r.mtimeMs}`;
    throw new LakemapError('SOURCE_CHANGED', `${this.rel} changed since ${e.by} mapped it (${what}); refresh the collection`, { path: this.rel });
  }
}

/**
 * A small bounded memo. The engine probes thousands of files that usually share one schema and
 * caches by schema identity, so the scanner returns the same `Schema` object for equal schema bytes.
 */
export class BoundedMemo<V> {
  private readonly entries = new Map<string, V>();

  /** Keeps at most `capacity` entries; the oldest is dropped first. */
  constructor(private readonly capacity: number) {}

  /** The value for `key`, computing and remembering it on a miss. */
  get(key: string, compute: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined || this.entries.has(key)) return hit as V;
    const value = compute();
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
    return value;
  }

  /** Forgets everything (tests use it to measure cold decodes). */
  clear(): void {
    this.entries.clear();
  }
}

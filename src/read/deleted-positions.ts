/**
 * The deleted row positions of one Iceberg data file (position delete files and deletion vectors), as
 * one bit per row of the file: memory is bounded by the file's row count, however many delete rows name
 * it (a delete file may repeat a position or name it in several files), and counted against the read
 * budget before it is taken.
 */
import { LakemapError, corruptFile } from '../errors.js';

/** A bit per data-file row: set when the row is deleted. */
export class DeletedPositions {
  private readonly bits: Uint8Array;
  /** Distinct positions set. */
  size = 0;

  /**
   * For a data file of `rows` rows (`path` names it in errors): `UNSUPPORTED` when one bit per row would
   * take more than `budget` bytes.
   */
  constructor(readonly path: string, readonly rows: number, budget: number) {
    const bytes = Math.ceil(rows / 8);
    if (bytes > budget) {
      throw new LakemapError(
        'UNSUPPORTED',
        `${path}: marking the deleted rows of its ${rows} rows takes ${bytes} bytes, more than the ${budget}-byte read budget; raise readBudgetBytes to read this data file`,
        { path },
      );
    }
    this.bits = new Uint8Array(bytes);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.bits.length;
  }

  /** Marks `position` deleted; `CORRUPT_FILE` naming `from` (the delete file) when the data file has no such row. */
  add(position: number, from: string): void {
    if (!Number.isSafeInteger(position) || position < 0 || position >= this.rows) {
      throw corruptFile(from, `deletes position ${position} of ${this.path}, which has ${this.rows} rows`);
    }
    const mask = 1 << (position % 8);
    const at = Math.floor(position / 8); // rows may pass 2^32: no 32-bit shifts
    if ((this.bits[at]! & mask) === 0) {
      this.bits[at]! |= mask;
      this.size++;
    }
  }

  /** True when row `position` is deleted. */
  has(position: number): boolean {
    return position >= 0 && position < this.rows && (this.bits[Math.floor(position / 8)]! & (1 << (position % 8))) !== 0;
  }
}

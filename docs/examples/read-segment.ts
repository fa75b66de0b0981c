// Reading a collection's rows, as shown in docs/reading.md. The test suite runs it on a DuckDB-written lake.
import type { RecordBatch } from 'apache-arrow';
import type { RefreshEngine } from 'lakemap';

/** Reads the `pk` and `embedding` fields of every segment, one segment after another; returns the row count. */
export async function countVectors(engine: RefreshEngine, collectionName: string): Promise<number> {
  const manifest = await engine.getManifest({ collectionName });
  let rows = 0;
  for (const segment of manifest.segments) {
    // One batch per row group (or its part in the segment): memory stays at a few row groups.
    for await (const batch of engine.readSegment({ collectionName, segmentId: segment.id, columns: ['pk', 'embedding'] })) {
      rows += batch.numRows;
      consume(batch);
    }
  }
  return rows;
}

function consume(batch: RecordBatch): void {
  const embedding = batch.getChild('embedding')!; // FixedSizeList<Float32> when the field declares dim
  if (embedding.length !== batch.numRows) throw new Error('a column shorter than its batch');
}

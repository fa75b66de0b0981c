/**
 * Decodes the `ARROW:schema` entry that Arrow-based writers (arrow-cpp, pyarrow, arrow-rs, polars)
 * leave in a parquet footer's key/value metadata. It holds the exact Arrow schema the file was
 * written from — fixed-size lists (vectors), large strings, time zones, dictionaries — which the
 * parquet schema alone cannot say.
 */
import { RecordBatchReader, type Schema } from 'apache-arrow';

/** Arrow IPC end-of-stream marker: continuation token then a zero length. */
const EOS = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];

/** Larger values are not a plausible schema; refuse before decoding. */
const MAX_BASE64 = 16 * 1024 * 1024;

/**
 * The Arrow schema in an `ARROW:schema` value (base64 of an IPC-encapsulated Schema message), or
 * `undefined` when the value does not decode: the caller then maps the parquet schema instead.
 */
export function decodeArrowSchema(base64: string): Schema | undefined {
  if (base64.length === 0 || base64.length > MAX_BASE64) return undefined;
  try {
    const message = Buffer.from(base64, 'base64');
    const stream = new Uint8Array(message.length + EOS.length);
    stream.set(message, 0);
    stream.set(EOS, message.length);
    const reader = RecordBatchReader.from(stream);
    reader.open();
    return reader.schema ?? undefined;
  } catch {
    return undefined;
  }
}

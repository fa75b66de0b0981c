// `readFile` of an object store (S3, here s3rver): whole objects up to the default cap (256 MiB) are
// read without a `maxBytes`; a smaller cap refuses a larger object with CORRUPT_FILE naming it. From the
// directory-wide mutation sample (docs/testing.md): the default cap survived (no test read an object
// of more than 256 bytes through `readFile` without a cap).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../src/storage/open.js';
import { S3_KEY, S3_SECRET, startS3, type S3Server } from './helpers/object-servers.js';

let s3: S3Server;
const big = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
beforeAll(async () => {
  s3 = await startS3();
  await s3.bucket('lake');
  await s3.put('lake', 'data/big.bin', big);
}, 60_000);
afterAll(async () => s3?.close());

describe('ObjectStorage.readFile', () => {
  it('reads a 300 KiB object whole under the default cap, and refuses it under a 1,000-byte one', async () => {
    const storage = await openStorage('s3://lake/data', { endpoint: s3.endpoint, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET });
    expect(Buffer.from(await storage.readFile('big.bin')).equals(Buffer.from(big))).toBe(true);
    await expect(storage.readFile('big.bin', 1000)).rejects.toMatchObject({ code: 'CORRUPT_FILE', path: 'big.bin' });
  });
});

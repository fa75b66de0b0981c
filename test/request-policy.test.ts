// The shared request policy: bounded concurrency, retries with backoff on throttling and resets, a
// per-attempt timeout and cancellation; checked alone and through a faulty proxy in front of s3rver.
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshEngine, openStorage } from 'lakemap';
import { tempDir } from './helpers/tmp.js';
import { RequestPolicy, redact } from '../src/storage/request-policy.js';
import type { ObjectStorage } from '../src/storage/object-store.js';
import { startS3, S3_KEY, S3_SECRET, type S3Server } from './helpers/object-servers.js';

describe('RequestPolicy', () => {
  it('keeps at most `concurrency` attempts in flight', async () => {
    const policy = new RequestPolicy({ concurrency: 3 });
    let now = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        policy.run(async () => {
          peak = Math.max(peak, ++now);
          await new Promise((r) => setTimeout(r, 5));
          now--;
        }, () => 'permanent'),
      ),
    );
    expect(peak).toBe(3);
    expect(policy.counts.attempts).toBe(20);
  });

  it('retries transient failures, not permanent ones, and gives up after `retries`', async () => {
    const policy = new RequestPolicy({ retries: 3, backoffMs: 1 });
    let calls = 0;
    await expect(policy.run(async () => (++calls < 3 ? Promise.reject(new Error('slow down')) : 'ok'), () => 'transient')).resolves.toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    await expect(policy.run(async () => (++calls, Promise.reject(new Error('denied'))), () => 'permanent')).rejects.toThrow('denied');
    expect(calls).toBe(1);
    calls = 0;
    await expect(policy.run(async () => (++calls, Promise.reject(new Error('always'))), () => 'transient')).rejects.toThrow('always');
    expect(calls).toBe(4);
  });

  it('times an attempt out, retries it, and stops at once on cancellation', async () => {
    const policy = new RequestPolicy({ timeoutMs: 50, retries: 1, backoffMs: 1 });
    let calls = 0;
    const hang = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    await expect(policy.run((s) => (++calls, hang(s)), () => 'permanent')).rejects.toThrow(/no answer within 50 ms/);
    expect(calls).toBe(2);

    const ctl = new AbortController();
    const cancelled = new RequestPolicy({ timeoutMs: 60_000 }, ctl.signal);
    const p = cancelled.run((s) => hang(s), () => 'transient');
    setTimeout(() => ctl.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('redacts secrets and signatures from messages', () => {
    const text = 'GET https://a.blob.core.windows.net/c?sv=2020&sig=abc%2Fdef&se=2020 failed; AccountKey=xyz123==; key s3cr3tvalue';
    const out = redact(text, ['s3cr3tvalue']);
    expect(out).not.toMatch(/abc%2Fdef|xyz123|s3cr3tvalue/);
    expect(out).toContain('sig=***');
  });
});

describe('object storage through a faulty network', () => {
  let s3: S3Server;
  let proxy: http.Server;
  let proxyUrl: string;
  /** Faults the proxy injects into the next GET requests, in order. */
  const faults: ('503' | 'reset' | 'hang')[] = [];
  let gets = 0;

  beforeAll(async () => {
    s3 = await startS3();
    await s3.bucket('flaky');
    for (let i = 0; i < 5; i++) await s3.put('flaky', `p/f${i}.bin`, new Uint8Array(1000).fill(i));
    proxy = http.createServer((req, res) => {
      if (req.method === 'GET') gets++;
      const fault = req.method === 'GET' && req.headers.range ? faults.shift() : undefined;
      if (fault === '503') {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      }
      if (fault === 'reset') return void req.socket.destroy();
      if (fault === 'hang') return; // never answers
      const up = http.request({ host: '127.0.0.1', port: s3.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await s3?.close();
  });

  it('reads through throttling, a connection reset and a hung request', async () => {
    const storage = (await openStorage('s3://flaky/p', { endpoint: proxyUrl, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET, timeoutMs: 2000, backoffMs: 5 })) as ObjectStorage; // the hung attempt's timeout; roomy so a slow answer under load is not retried too
    const files = await storage.list();
    expect(files.map((f) => f.path)).toEqual(['f0.bin', 'f1.bin', 'f2.bin', 'f3.bin', 'f4.bin']);
    faults.push('503', 'reset', 'hang');
    const tail = await storage.readTail('f3.bin', 16);
    expect([...tail.tail]).toEqual(new Array(16).fill(3));
    expect(tail.size).toBe(1000);
    expect(storage.policy.counts.retries).toBe(3);
    expect(faults).toEqual([]);
  });

  it('reports throttling that does not stop as an IO_ERROR naming the URL, after the configured retries', async () => {
    const storage = (await openStorage('s3://flaky/p', { endpoint: proxyUrl, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET, retries: 2, backoffMs: 1 })) as ObjectStorage;
    await storage.list();
    faults.push('503', '503', '503');
    const before = gets;
    await expect(storage.read('f1.bin', 0, 10)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('s3://flaky/p/f1.bin') });
    expect(gets - before).toBe(3);
  });

  it('cancels a refresh whose requests hang, at once and with CANCELLED', async () => {
    const engine = new RefreshEngine({ root: tempDir(), storageOptions: { endpoint: proxyUrl, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET, timeoutMs: 600_000 } }); // a hung GET is never timed out: only cancelling ends it
    await engine.createCollection({ collectionName: 'h', externalSource: 's3://flaky/p', externalSpec: { format: 'parquet', files: '*.bin' } });
    faults.push('hang', 'hang', 'hang', 'hang', 'hang');
    const { jobId } = await engine.refreshExternalCollection({ collectionName: 'h' });
    while (faults.length > 0) await new Promise((r) => setTimeout(r, 10)); // every tail GET is in flight, hung
    const t0 = Date.now();
    expect(engine.cancelRefresh(jobId)).toBe(true);
    const info = await engine.waitForRefresh(jobId);
    expect([info.state, info.errorCode]).toEqual(['RefreshFailed', 'CANCELLED']);
    expect(Date.now() - t0).toBeLessThan(30_000); // far below the 600 s attempt timeout: the cancel ended it, not a timeout
  });
});

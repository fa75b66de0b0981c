// A local S3 server (s3rver, in a child process) on 127.0.0.1 for tests, and plain S3 calls (path-style, unsigned).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalS3 {
  endpoint: string;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  del(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

/** Starts s3rver with `buckets` created, storing into a temp dir removed on close. */
export async function startS3(buckets: string[]): Promise<LocalS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakemap-s3rver-'));
  const child = spawn(process.execPath, [script, dir, ...buckets], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { port: number }).port);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const call = async (method: string, url: string, body?: Uint8Array | string): Promise<void> => {
    const r = await fetch(url, { method, ...(body !== undefined ? { body } : {}) });
    if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  };
  return {
    endpoint,
    put: (bucket, key, body) => call('PUT', `${endpoint}/${bucket}/${key}`, body),
    del: (bucket, key) => call('DELETE', `${endpoint}/${bucket}/${key}`),
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

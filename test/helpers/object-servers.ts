// Real object-store servers for tests: s3rver (S3 protocol) in-process and azurite (Azure Blob) as a
// child process, both on 127.0.0.1 with free ports, stopped by the caller. Requests are counted by method.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { S3Client, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { tempDir } from './tmp.js';

const require = createRequire(import.meta.url);

/** S3 credentials s3rver accepts. */
export const S3_KEY = 'S3RVER';
export const S3_SECRET = 'S3RVER';

/** A running s3rver with a request counter. */
export interface S3Server {
  endpoint: string;
  port: number;
  /** Requests seen, by HTTP method. */
  counts: Record<string, number>;
  /** Every request seen: method, URL path and query, and its Range header. */
  requests: { method: string; url: string; range?: string }[];
  client: S3Client;
  /** Creates a bucket. */
  bucket(name: string): Promise<void>;
  /** Uploads a local directory's files under `bucket/prefix`. */
  upload(dir: string, bucket: string, prefix: string): Promise<number>;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Every file below `dir`, relative and `/`-separated. */
export function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Starts s3rver on a free port with a fresh data directory. */
export async function startS3(): Promise<S3Server> {
  const S3rver = require('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void>; httpServer: import('node:http').Server };
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir('lakemap-s3rver-') });
  const { port } = await server.run();
  const counts: Record<string, number> = {};
  const requests: S3Server['requests'] = [];
  server.httpServer.on('request', (req: import('node:http').IncomingMessage) => {
    counts[req.method ?? '?'] = (counts[req.method ?? '?'] ?? 0) + 1;
    requests.push({ method: req.method ?? '?', url: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET } });
  const put = async (bucket: string, key: string, body: Uint8Array | string): Promise<void> => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };
  return {
    endpoint,
    port,
    counts,
    requests,
    client,
    bucket: async (name) => void (await client.send(new CreateBucketCommand({ Bucket: name }))),
    put,
    upload: async (dir, bucket, prefix) => {
      const files = walk(dir);
      for (const f of files) await put(bucket, prefix ? `${prefix}/${f}` : f, fs.readFileSync(path.join(dir, f)));
      return files.length;
    },
    close: async () => {
      client.destroy();
      server.httpServer.closeAllConnections?.();
      await server.close();
    },
  };
}

/** Azurite's well-known development account. */
export const AZ_ACCOUNT = 'devstoreaccount1';
export const AZ_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running azurite blob service. */
export interface AzureServer {
  endpoint: string;
  connectionString: string;
  service: BlobServiceClient;
  container(name: string): Promise<void>;
  upload(dir: string, container: string, prefix: string): Promise<number>;
  put(container: string, key: string, body: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
}

/** Starts azurite's blob service on a free port, in memory. */
export async function startAzurite(): Promise<AzureServer> {
  const port = await freePort();
  const bin = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const child: ChildProcess = spawn(process.execPath, [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--silent', '--skipApiVersionCheck'], {
    cwd: tempDir('lakemap-azurite-'), // anything azurite writes lands here
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite exited: ${output}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`azurite did not listen on ${port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const endpoint = `http://127.0.0.1:${port}/${AZ_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZ_ACCOUNT};AccountKey=${AZ_KEY};BlobEndpoint=${endpoint};`;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  const put = async (container: string, key: string, body: Uint8Array | string): Promise<void> => {
    const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    await service.getContainerClient(container).getBlockBlobClient(key).upload(data, data.length);
  };
  return {
    endpoint,
    connectionString,
    service,
    container: async (name) => void (await service.getContainerClient(name).create()),
    put,
    upload: async (dir, container, prefix) => {
      const files = walk(dir);
      for (const f of files) await put(container, prefix ? `${prefix}/${f}` : f, fs.readFileSync(path.join(dir, f)));
      return files.length;
    },
    close: async () => {
      child.kill('SIGKILL'); // in memory, nothing to save; SIGTERM waits for idle keep-alive sockets
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}

/** s3rver in a child process: needed when this process makes synchronous calls on an s3fs mount of it. */
export interface ChildS3Server {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Starts s3rver in its own process on a free port. */
export async function startS3Child(): Promise<ChildS3Server> {
  const dir = tempDir('lakemap-s3rver-');
  const script = `const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)} }).run().then((a) => console.log('PORT ' + a.port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', () => reject(new Error(`s3rver exited: ${out}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}

/** Runs a command to its end without blocking this process. */
export function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: -1, out: String(e) }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Why an s3fs mount cannot be made on this machine, or undefined when it can. */
export function s3fsMissing(): string | undefined {
  if (!fs.existsSync('/usr/bin/s3fs') && !process.env.PATH?.split(':').some((d) => fs.existsSync(path.join(d, 's3fs')))) return 's3fs is not installed (apt-get install -y s3fs)';
  if (!fs.existsSync('/dev/fuse')) return '/dev/fuse does not exist (FUSE unavailable)';
  return undefined;
}

/** Mounts `bucket` of an S3 endpoint with s3fs at a fresh directory; returns it and an unmount. */
export async function mountS3fs(endpoint: string, bucket: string, extra: string[] = []): Promise<{ dir: string; unmount(): Promise<void> }> {
  const dir = tempDir('lakemap-s3fs-');
  const passwd = path.join(tempDir('lakemap-s3fs-pw-'), 'passwd');
  fs.writeFileSync(passwd, `${S3_KEY}:${S3_SECRET}\n`, { mode: 0o600 });
  const opts = [`passwd_file=${passwd}`, `url=${endpoint}`, 'use_path_request_style', 'no_check_certificate', ...extra].join(',');
  const r = await run('s3fs', [bucket, dir, '-o', opts]);
  if (r.code !== 0) throw new Error(`s3fs mount failed (${r.code}): ${r.out}`);
  const deadline = Date.now() + 20_000;
  while (!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `)) {
    if (Date.now() > deadline) throw new Error(`s3fs did not mount ${dir}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    dir,
    unmount: async () => {
      const u = await run('fusermount', ['-u', dir]);
      if (u.code !== 0) await run('umount', ['-l', dir]);
    },
  };
}

// The CLI on object stores with nothing but the usual environment: AWS_* for s3://, the Azure
// connection string for az://. Servers are real (s3rver, azurite) and the CLI runs as a child process.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExampleLake } from '../fixtures/parquet/index.js';
import { startAzurite, startS3, S3_KEY, S3_SECRET, type AzureServer, type S3Server } from './helpers/object-servers.js';
import { tempDir } from './helpers/tmp.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).bin.lakemap);

/** Runs the CLI without blocking this process (the servers answer from it). */
function lakemap(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Only the environment a user would have: no inherited AWS_/AZURE_ variables.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|AZURE_)/.test(k))) as Record<string, string>;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let s3: S3Server;
let az: AzureServer;
let rows: number;

beforeAll(async () => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first (npm test does)`);
  const lake = tempDir();
  rows = (await writeExampleLake(lake)).reduce((n, f) => n + f.rows, 0);
  [s3, az] = await Promise.all([startS3(), startAzurite()]);
  await s3.bucket('lake');
  await s3.upload(lake, 'lake', 'trips');
  await az.container('lake');
  await az.upload(lake, 'lake', 'trips');
});
afterAll(async () => {
  await s3?.close();
  await az?.close();
});

describe('lakemap CLI on object stores', () => {
  it('create + refresh + show on s3:// with only the AWS environment variables', async () => {
    const env = { AWS_ENDPOINT_URL: s3.endpoint, AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET, AWS_REGION: 'us-east-1' };
    const root = tempDir();
    const created = await lakemap(env, 'create', 't', '--source', 's3://lake/trips', '--format', 'parquet', '--root', root);
    expect(created.code, created.stderr).toBe(0);
    const refreshed = await lakemap(env, 'refresh', 't', '--json', '--root', root);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    const shown = await lakemap(env, 'show', 't', '--json', '--root', root);
    expect(shown.code, shown.stderr).toBe(0);
    const m = JSON.parse(shown.stdout);
    expect(m.totalRows ?? m.manifest?.totalRows).toBe(rows);
    const text = await lakemap(env, 'show', 't', '--root', root);
    expect(text.stdout).toContain('s3://lake/trips');
    expect(text.stdout + text.stderr + refreshed.stdout).not.toContain(S3_SECRET + '');
    // `lakemap read` reaches the objects the same way (ranged GETs of the footer and column chunks).
    const read = await lakemap(env, 'read', 't', '--format', 'jsonl', '--root', root);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.trim().split('\n').length).toBe(rows);
    const readDenied = await lakemap({ ...env, AWS_ACCESS_KEY_ID: 'NOBODY', AWS_SECRET_ACCESS_KEY: 'not-the-secret-xyz' }, 'read', 't', '--limit', '1', '--root', root);
    expect(readDenied.code).not.toBe(0);
    expect(readDenied.stdout + readDenied.stderr).toContain('ACCESS_DENIED');
    expect(readDenied.stdout + readDenied.stderr).not.toContain('not-the-secret-xyz');

    // Without credentials the refresh fails with its code, and the first version stays.
    const denied = await lakemap({ ...env, AWS_ACCESS_KEY_ID: 'NOBODY', AWS_SECRET_ACCESS_KEY: 'not-the-secret-xyz' }, 'refresh', 't', '--json', '--root', root);
    expect(denied.code).not.toBe(0);
    expect(denied.stdout + denied.stderr).toContain('ACCESS_DENIED');
    expect(denied.stdout + denied.stderr).not.toContain('not-the-secret-xyz');
  });

  it('create + refresh + show on az:// with only AZURE_STORAGE_CONNECTION_STRING', async () => {
    const env = { AZURE_STORAGE_CONNECTION_STRING: az.connectionString };
    const root = tempDir();
    expect((await lakemap(env, 'create', 't', '--source', 'az://lake/trips', '--format', 'parquet', '--root', root)).code).toBe(0);
    const refreshed = await lakemap(env, 'refresh', 't', '--json', '--root', root);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ state: 'RefreshCompleted', version: 1 });
    const shown = await lakemap(env, 'show', 't', '--json', '--root', root);
    const m = JSON.parse(shown.stdout);
    expect(m.totalRows ?? m.manifest?.totalRows).toBe(rows);
  });
});

/**
 * A real S3-protocol server for tests and benches: s3rver (npm) started as a separate child process
 * on an ephemeral port with one bucket, its objects in a temporary folder. What it does not emulate
 * (SigV4 signature checks, checksums, AbortMultipartUpload, ListMultipartUploads, part-size minimum)
 * and how each is covered otherwise is in docs/scaling.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const S3_BUCKET = 'ftnode-test';
/** s3rver's one account; any secret works because it does not verify SigV4 signatures. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Server {
  endpoint: string;
  bucket: string;
  dir: string;
  child: ChildProcess;
  /** The settings an ftnode process needs (FTNODE_* and the SDK's credential variables). */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'ftnode-s3-'));
  const bin = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const child = spawn(process.execPath, [bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', S3_BUCKET], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on ([\d.]+):(\d+)/.exec(out);
      if (m) resolve(`http://${m[1]}:${m[2]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}:\n${out}`)));
  });
  return {
    endpoint, bucket: S3_BUCKET, dir, child,
    env: (prefix = '') => ({
      FTNODE_BLOB_URL: `s3://${S3_BUCKET}${prefix ? `/${prefix}` : ''}`,
      FTNODE_S3_ENDPOINT: endpoint,
      FTNODE_S3_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }),
    stop: () => new Promise<void>((resolve) => {
      const done = (): void => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    }),
  };
}

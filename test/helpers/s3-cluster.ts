/**
 * The recommended multi-host topology as real processes (docs/scaling.md): PostgreSQL (a schema of
 * its own) + an S3-protocol server (s3rver, a child process) + N `ftnode serve` replicas, each with
 * its OWN home (no shared folder; only the upload-signing key is deployed to each, as a secret would
 * be) + M remote `ftnode worker` processes. Used by s3-cluster, lifecycle-s3 and chaos-s3 tests.
 * Also reads back what the deployment stored: every artifact must be in the bucket, none in a home.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3BlobStore } from '../../src/blobs/s3.js';
import { randomHex } from '../../src/lib/ids.js';
import { Cluster } from './cluster.js';
import type { FixturePlan } from './harness.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './s3-server.js';
import { writeServerConfig } from './server-process.js';
import { dropPgSchema } from './test-store.js';

export interface S3ClusterOptions {
  pgUrl: string;
  /** Names the schema, the bucket prefix and the temporary folders. */
  name: string;
  plans: Record<string, FixturePlan>;
  replicas?: number;
  workers?: number;
  workerConcurrency?: number;
  /** FTNODE_* settings for every process, on top of the S3 ones. */
  env?: Record<string, string>;
}

export class S3Cluster {
  readonly schema: string;
  readonly homes: string[];
  readonly gateDir: string;
  readonly prefix: string;
  s3!: S3Server;
  cluster!: Cluster;
  private checkDir: string;

  constructor(readonly o: S3ClusterOptions) {
    this.schema = `${o.name}_${randomHex(12)}`;
    this.prefix = o.name;
    this.homes = Array.from({ length: o.replicas ?? 2 }, (_, i) => mkdtempSync(join(tmpdir(), `ftnode-${o.name}-${i}-`)));
    this.gateDir = mkdtempSync(join(tmpdir(), `ftnode-${o.name}-gates-`));
    this.checkDir = mkdtempSync(join(tmpdir(), `ftnode-${o.name}-check-`));
  }

  async start(): Promise<void> {
    this.s3 = await startS3Server();
    const key = randomBytes(32).toString('hex'); // the same signing key on every host (a deployed secret, not a shared folder)
    for (const h of this.homes) {
      writeServerConfig(h, this.gateDir, this.o.plans);
      writeFileSync(join(h, 'upload-signing.key'), key, { mode: 0o600 });
    }
    this.cluster = new Cluster({
      pgUrl: this.o.pgUrl, schema: this.schema, home: this.homes[0]!, homes: this.homes, replicas: this.homes.length, workers: this.o.workers ?? 2, workerConcurrency: this.o.workerConcurrency,
      env: { ...this.s3.env(this.prefix), ...this.o.env },
    });
    await this.cluster.start();
  }

  /** A reader of the deployment's bucket prefix (explicit credentials: s3rver's account). */
  bucket(): S3BlobStore {
    return new S3BlobStore({ url: `s3://${this.s3.bucket}/${this.prefix}`, endpoint: this.s3.endpoint, forcePathStyle: true, cacheDir: this.checkDir, credentials: S3_CREDENTIALS });
  }

  /** Size and sha256 of an object, read back from the bucket; null when it is not there. */
  async objectInfo(key: string): Promise<{ size: number; sha256: string } | null> {
    const body = await this.bucket().openRead(key);
    if (!body) return null;
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      h.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { size, sha256: h.digest('hex') };
  }

  /** The bucket key of an `s3://bucket/prefix/…` URI the records hold. */
  keyOf(uri: string): string {
    const base = `s3://${this.s3.bucket}/${this.prefix}/`;
    if (!uri.startsWith(base)) throw new Error(`${uri} is not in ${base}`);
    return uri.slice(base.length);
  }

  /** Artifacts found in any replica's home (there must be none: they all live in the bucket). */
  artifactsInHomes(): string[] {
    const out: string[] = [];
    for (const h of this.homes) {
      const dir = join(h, 'artifacts');
      if (existsSync(dir)) for (const n of readdirSync(dir)) if (!n.startsWith('.')) out.push(join(dir, n));
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.cluster?.stop();
    await this.s3?.stop();
    for (const d of [...this.homes, this.gateDir, this.checkDir]) rmSync(d, { recursive: true, force: true });
    for (const w of this.cluster?.workers ?? []) rmSync(w.cacheDir, { recursive: true, force: true });
    await dropPgSchema(this.o.pgUrl, this.schema);
  }
}

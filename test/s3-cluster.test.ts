/**
 * The multi-host topology with no shared folder (skipped without FTNODE_TEST_PG_URL): two `ftnode
 * serve` replicas with SEPARATE homes, two remote `ftnode worker` processes, PostgreSQL and an
 * S3-protocol server (s3rver, a child process). Checks:
 * - a simple upload and a direct upload (parts PUT to both replicas, completed on the other) of
 *   32 MiB round-trip byte-exact through either replica;
 * - a direct upload whose receiving replica is SIGKILLed mid-part resumes on the other one;
 * - 6 fixture jobs run to the end while a worker or a replica is SIGKILLed and restarted every few
 *   seconds; every committed checkpoint then exists in the bucket with its recorded size and sha256,
 *   and so does the one each inference config names; neither home holds an artifact.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { S3BlobStore } from '../src/blobs/s3.js';
import { randomHex } from '../src/lib/ids.js';
import { AUTH, hashDownload, patternDigest, patternStream, rawRequest, uploadRaw } from './files-helpers.js';
import { Cluster } from './helpers/cluster.js';
import { jobBody, paceGates } from './helpers/harness.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3-server.js';
import { writeServerConfig } from './helpers/server-process.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;
const SIZE = 32 * 1024 * 1024 + 17; // 4 parts of 8 MiB + a short one
const JOBS = 6;
const STEPS = 12;
const TERMINAL = ['COMPLETED', 'STOPPED', 'CANCELLED', 'FAILED'];

describe('PostgreSQL + S3, two replicas with separate homes, two remote workers', { skip: PG_URL ? false : 'FTNODE_TEST_PG_URL is not set', timeout: 300_000 }, () => {
  const schema = `s3c_${randomHex(12)}`;
  const homes = [mkdtempSync(join(tmpdir(), 'ftnode-s3c-a-')), mkdtempSync(join(tmpdir(), 'ftnode-s3c-b-'))];
  const gateDir = mkdtempSync(join(tmpdir(), 'ftnode-s3c-gates-'));
  let s3: S3Server;
  let cluster: Cluster;
  let pacer: NodeJS.Timeout | undefined;

  before(async () => {
    s3 = await startS3Server();
    const key = randomBytes(32).toString('hex'); // the same signing key on both hosts (a deployed secret, not a shared folder)
    for (const h of homes) {
      writeServerConfig(h, gateDir, { s3c: { steps: STEPS, evalEvery: 3, gates: Array.from({ length: STEPS }, (_, i) => `step_${i + 1}`) } });
      writeFileSync(join(h, 'upload-signing.key'), key, { mode: 0o600 });
    }
    cluster = new Cluster({
      pgUrl: PG_URL!, schema, home: homes[0]!, homes, replicas: 2, workers: 2,
      env: { ...s3.env('deploy'), FTNODE_LEASE_MS: '2000', FTNODE_HEARTBEAT_MS: '200', FTNODE_REAPER_INTERVAL_MS: '200', FTNODE_WORKER_DISCONNECT_GRACE_MS: '1000', FTNODE_MAX_ATTEMPTS: '100' },
    });
    await cluster.start();
    pacer = paceGates(gateDir, 50);
  });
  after(async () => {
    clearInterval(pacer);
    await cluster?.stop();
    await s3?.stop();
    for (const d of [...homes, gateDir]) rmSync(d, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
  });

  test('simple and direct uploads round-trip byte-exact through either replica', async () => {
    const [a, b] = cluster.urls as [string, string];
    const { sha256, crc32c } = patternDigest(5, SIZE);
    const up = await uploadRaw(a, '/v0.5/files', 'big-simple.txt', 'text/plain', patternStream(5, 0, SIZE), SIZE);
    assert.equal(up.status, 200, up.body.toString());
    const d1 = await hashDownload(`${b}/v0.5/files/download/big-simple.txt`);
    assert.deepEqual([d1.status, d1.bytes, d1.sha256], [200, SIZE, sha256]);

    const init = await fetch(`${a}/v0.5/files/uploads/initiate`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'big-direct.txt', file_type: 'text/plain', num_bytes: SIZE }) });
    const plan = (await init.json()) as { upload_id: string; parts: Array<{ part_number: number; url: string; offset: number; length: number }> };
    const tokens = [];
    for (const [i, p] of plan.parts.entries()) {
      const url = i % 2 ? p.url.replace(a, b) : p.url; // parts land on both replicas
      const r = await rawRequest(url, 'PUT', { 'content-length': p.length }, patternStream(5, p.offset, p.length));
      assert.equal(r.status, 200, r.body.toString());
      tokens.push({ part_number: p.part_number, part_token: String(r.headers.etag) });
    }
    const done = await fetch(`${b}/v0.5/files/uploads/${plan.upload_id}/complete`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ parts: tokens, integrity_checksum: crc32c }) });
    assert.equal(done.status, 200, await done.text());
    const d2 = await hashDownload(`${a}/v0.5/files/download/big-direct.txt`);
    assert.deepEqual([d2.status, d2.bytes, d2.sha256], [200, SIZE, sha256]);
  });

  test('a direct upload resumes on the other replica after the one receiving a part is killed mid-PUT', async () => {
    const [a, b] = cluster.urls as [string, string];
    const { sha256, crc32c } = patternDigest(6, SIZE);
    const json = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const plan = (await (await json(`${a}/v0.5/files/uploads/initiate`, { filename: 'resume.txt', file_type: 'text/plain', num_bytes: SIZE })).json()) as { upload_id: string; parts: Array<{ part_number: number; url: string; offset: number; length: number }> };
    const tokens: Array<{ part_number: number; part_token: string }> = [];
    for (const p of plan.parts.slice(0, 3)) {
      const r = await rawRequest(p.url, 'PUT', { 'content-length': p.length }, patternStream(6, p.offset, p.length));
      assert.equal(r.status, 200);
      tokens.push({ part_number: p.part_number, part_token: String(r.headers.etag) });
    }
    assert.equal((await json(`${a}/v0.5/files/uploads/${plan.upload_id}/parts/checkpoint`, { parts: tokens })).status, 200);
    // Part 3 starts streaming into replica A, which is killed while the body is on its way.
    const p3 = plan.parts[3]!;
    const body = new PassThrough();
    const broken = rawRequest(p3.url, 'PUT', { 'content-length': p3.length }, body).then(() => 'answered', () => 'broken');
    body.write(Buffer.alloc(1 << 20, 1)); // a first MiB of the part; the rest never comes
    await cluster.killReplica(0);
    assert.equal(await broken, 'broken');
    await cluster.startReplica(0);
    // Resume through replica B: only the parts not checkpointed are offered again.
    const again = (await (await json(`${b}/v0.5/files/uploads/initiate`, { filename: 'resume.txt', file_type: 'text/plain', num_bytes: SIZE, resume_if_started: true })).json()) as { upload_id: string; is_resume: boolean; parts: Array<{ part_number: number; url: string; offset: number; length: number }> };
    assert.equal(again.is_resume, true);
    assert.equal(again.upload_id, plan.upload_id);
    assert.deepEqual(again.parts.map((p) => p.part_number), plan.parts.slice(3).map((p) => p.part_number));
    for (const p of again.parts) {
      const r = await rawRequest(p.url.replace(a, b), 'PUT', { 'content-length': p.length }, patternStream(6, p.offset, p.length));
      assert.equal(r.status, 200);
      tokens.push({ part_number: p.part_number, part_token: String(r.headers.etag) });
    }
    const done = await json(`${b}/v0.5/files/uploads/${plan.upload_id}/complete`, { parts: tokens, integrity_checksum: crc32c });
    assert.equal(done.status, 200, await done.text());
    const d = await hashDownload(`${a}/v0.5/files/download/resume.txt`);
    assert.deepEqual([d.status, d.bytes, d.sha256], [200, SIZE, sha256]);
  });

  test('jobs under worker and replica kills: every checkpoint in the bucket, verified; no artifact on either host', async () => {
    const client = cluster.client();
    assert.equal((await client.upload('data.jsonl', '{"x":1}\n')).status, 200);
    const ids = Array.from({ length: JOBS }, (_, i) => `s3c-${i}`);
    for (const id of ids) assert.equal((await client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-s3c', 'data.jsonl', { id }))).status, 201);
    const kills: string[] = [];
    for (let round = 0; ; round++) {
      const st = await Promise.all(ids.map(async (id) => (await client.job(id)).status as string));
      if (st.every((s) => TERMINAL.includes(s))) break;
      assert.ok(round < 120, `not terminal: ${st.join(' ')}`);
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 1_000)); // the kill interval is the workload
      const victim = Math.floor(Math.random() * 4);
      kills.push(victim < 2 ? `w${victim}` : `r${victim - 2}`);
      if (victim < 2) {
        await cluster.killWorker(victim);
        await cluster.startWorker(victim);
      } else {
        await cluster.killReplica(victim - 2);
        await cluster.startReplica(victim - 2);
      }
    }
    const store = new S3BlobStore({ url: `s3://${s3.bucket}/deploy`, endpoint: s3.endpoint, forcePathStyle: true, cacheDir: mkdtempSync(join(tmpdir(), 'ftnode-s3c-check-')), credentials: S3_CREDENTIALS });
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      await db.query(`SET search_path TO "${schema}"`);
      const jobs = (await db.query('SELECT id, status, inference_config_path FROM jobs')).rows;
      for (const j of jobs) assert.equal(j.status, 'COMPLETED', `${j.id}: ${j.status}`);
      const ckpts = (await db.query('SELECT id, blob_key, num_bytes, sha256 FROM checkpoints')).rows;
      assert.ok(ckpts.length >= JOBS * 2, `${ckpts.length} checkpoints`);
      for (const c of ckpts) {
        const body = await store.openRead(c.blob_key);
        assert.ok(body, `checkpoint ${c.id} missing from the bucket`);
        const h = createHash('sha256');
        let n = 0;
        for await (const chunk of body) {
          h.update(chunk as Buffer);
          n += (chunk as Buffer).length;
        }
        assert.deepEqual([n, h.digest('hex')], [Number(c.num_bytes), c.sha256], `checkpoint ${c.id} differs from its record`);
      }
      for (const j of jobs) {
        assert.match(j.inference_config_path, /^s3:\/\//);
        const key = (j.inference_config_path as string).replace(`s3://${s3.bucket}/deploy/`, '');
        let text = '';
        for await (const chunk of (await store.openRead(key))!) text += (chunk as Buffer).toString();
        const uri = /uri: (s3:\/\/\S+)/.exec(text)?.[1];
        assert.ok(uri && ckpts.some((c) => store.uri(c.blob_key) === uri), `${j.id}: inference config names ${uri}`);
      }
      for (const h of homes) assert.deepEqual((existsSync(join(h, 'artifacts')) ? readdirSync(join(h, 'artifacts')) : []).filter((n) => !n.startsWith('.')), [], `${h} holds artifacts`);
      process.stdout.write(`s3 cluster: ${kills.length} kills (${kills.join(' ')}), ${ckpts.length} checkpoints verified in the bucket\n`);
    } finally {
      await db.end();
    }
  });
});

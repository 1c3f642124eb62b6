/**
 * `ftnode gc` on both backends (the real CLI as a child process; the server process stopped first):
 * objects that no record names (a file version's bytes without a row, a deleted job's checkpoint,
 * an output never committed, an inference config of no job) are listed by --dry-run with a reason,
 * then deleted; everything a record names stays; the age bound spares young objects.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BlobStore } from '../src/blobs/blob-store.js';
import { LocalDiskBlobStore } from '../src/blobs/local-disk.js';
import { S3BlobStore } from '../src/blobs/s3.js';
import { jobBody, startTestApp } from './helpers/harness.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3-server.js';
import { CLI } from './helpers/server-process.js';

let s3: S3Server;
before(async () => {
  s3 = await startS3Server();
});
after(() => s3?.stop());

function gc(home: string, env: Record<string, string>, args: string[]): { orphans: Array<{ key: string; why: string }>; deleted: number } {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'gc', '--home', home, '--json', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }));
}

for (const backend of ['local disk', 's3'] as const) {
  describe(`ftnode gc on ${backend}`, () => {
    test('lists orphans with a reason, deletes only them, spares young ones', async () => {
      const home = mkdtempSync(join(tmpdir(), 'ftnode-gc-'));
      const env = backend === 's3' ? s3.env(`gc-${Date.now()}`) : {};
      if (backend === 's3') for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] = env[k];
      const t = await startTestApp({
        home, plans: { plain: { steps: 4, evalEvery: 2 } },
        overrides: { builtinWorkers: 1, ...(backend === 's3' ? { blobUrl: env.FTNODE_BLOB_URL!, s3Endpoint: s3.endpoint, s3PathStyle: true } : {}) },
      });
      assert.equal((await t.client.upload('data.jsonl', '{"x":1}\n')).status, 200);
      assert.equal((await t.client.call('POST', '/v0.5/fine-tune/jobs', jobBody('fixture-plain', 'data.jsonl', { id: 'kept' }))).status, 201);
      assert.equal((await t.client.waitStatus('kept', ['COMPLETED', 'FAILED'])).status, 'COMPLETED');
      const job = await t.app.store.getJob((await t.app.store.ensureOrg('default', 0)).uuid, 'kept');
      await t.close();
      const blobs: BlobStore = backend === 's3'
        ? new S3BlobStore({ url: env.FTNODE_BLOB_URL!, endpoint: s3.endpoint, forcePathStyle: true, cacheDir: join(home, 'check'), credentials: S3_CREDENTIALS })
        : new LocalDiskBlobStore(join(home, 'artifacts'));
      const before = (await Promise.all(['files', 'checkpoints', 'orgs'].map((p) => blobs.listKeys(p, 0)))).flat().sort();
      const planted = [
        `files/${job!.org_uuid}/fil_orphan0000000000000000`,
        'checkpoints/00000000-0000-4000-8000-000000000000/ckp_gone.ckpt',
        `checkpoints/${job!.uuid}/ckp_never_committed.ckpt`,
        `outputs/${job!.uuid}/never.csv`,
        `orgs/${job!.org_uuid}/inference-configs/no-such-job.yaml`,
      ];
      for (const k of planted) await blobs.writeBuffer(k, 'x');
      assert.deepEqual(gc(home, env, ['--dry-run', '--min-age-minutes', '60']).orphans, [], 'younger than the bound: spared');
      const dry = gc(home, env, ['--dry-run', '--min-age-minutes', '0']);
      assert.deepEqual(dry.orphans.map((o) => o.key).sort(), [...planted].sort());
      assert.ok(dry.orphans.every((o) => o.why.length > 0));
      for (const k of planted) assert.notEqual(await blobs.size(k), null, 'dry run deletes nothing');
      assert.equal(gc(home, env, ['--min-age-minutes', '0']).deleted, planted.length);
      for (const k of planted) assert.equal(await blobs.size(k), null, `${k} deleted`);
      const afterKeys = (await Promise.all(['files', 'checkpoints', 'orgs'].map((p) => blobs.listKeys(p, 0)))).flat().sort();
      assert.deepEqual(afterKeys, before, 'everything a record names stays');
      assert.ok(before.some((k) => k.startsWith('checkpoints/')) && before.some((k) => k.startsWith('files/')));
      rmSync(home, { recursive: true, force: true });
    });
  });
}

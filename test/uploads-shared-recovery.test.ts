/**
 * Replicas share the store and the part files (docs/scaling.md): a replica that starts, or sweeps,
 * must not break an upload another live replica is receiving or assembling. Two UploadsServices on
 * one SQLite file and one artifacts folder stand in for two replicas; time is an injected clock,
 * file ages are set with utimes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { LocalDiskBlobStore } from '../src/blobs/local-disk.js';
import { ManualClock } from '../src/lib/clock.js';
import { FilesService } from '../src/service/files/files-service.js';
import { COMPLETING_STALE_MS } from '../src/service/files/uploads-complete.js';
import { ORPHAN_PART_AGE_MS, UploadsService } from '../src/service/files/uploads-service.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ftnode-shared-uploads-'));
  const store = SqliteStore.open(join(dir, 'db.sqlite'));
  await store.migrate();
  const blobs = new LocalDiskBlobStore(join(dir, 'artifacts'));
  const clock = new ManualClock(Date.now()); // part files get real mtimes: keep the clock near them
  const opts = { partBytes: 8, urlTtlMs: 3600_000, ttlMs: 24 * 3600_000, maxBytes: 1 << 20, publicUrl: null, signingKeyFile: join(dir, 'sign.key') };
  const replica = () => new UploadsService({ store, blobs, clock, options: opts, onFileReplaced: () => undefined });
  const files = new FilesService({ store, blobs, clock, options: { maxUploadBytes: 1 << 20, uploads: opts } });
  return { dir, store, clock, files, a: replica(), b: replica(), partsDir: join(dir, 'artifacts', '.parts'), artifacts: join(dir, 'artifacts') };
}

async function putPart(svc: UploadsService, init: Record<string, unknown>, n: number, bytes: string): Promise<string> {
  const p = (init.parts as Array<{ part_number: number; url: string }>).find((x) => x.part_number === n)!;
  const q = new URL(p.url).searchParams;
  return svc.putPart(String(init.upload_id), n, { expires: q.get('expires'), sig: q.get('sig') }, Readable.from([Buffer.from(bytes)]), bytes.length);
}

test('a starting replica keeps another replica\'s assembly and fresh part files; stale ones are recovered', async () => {
  const t = await setup();
  try {
    const init = await t.a.initiate('o', { filename: 'data.bin', num_bytes: 16, file_type: 'application/octet-stream' }, 'http://x');
    const upload_id = String(init.upload_id);
    const tok0 = await putPart(t.a, init, 0, 'abcdefgh');
    const tok1 = await putPart(t.a, init, 1, 'ijklmnop');
    // replica A is assembling (open → completing, as complete() does before it streams the parts)
    const begun = await t.store.beginCompleteUpload(upload_id, [{ part_number: 0, token: tok0 }, { part_number: 1, token: tok1 }], t.clock.now());
    assert.ok(begun.ok);
    // a PUT of another upload is streaming into B's part folder right now: a file, no row yet
    const other = await t.a.initiate('o', { filename: 'other.bin', num_bytes: 8, file_type: 'application/octet-stream' }, 'http://x');
    const inFlight = join(t.partsDir, String(other.upload_id), 'p0-in-flight');
    mkdirSync(join(t.partsDir, String(other.upload_id)), { recursive: true });
    writeFileSync(inFlight, 'abcd');

    await t.b.recover({ shared: true }); // replica B starts
    assert.equal((await t.store.getUpload(upload_id))?.state, 'completing', "A's assembly is left alone");
    assert.ok(existsSync(inFlight), 'the part file of a PUT in flight is kept');
    assert.deepEqual(readdirSync(join(t.partsDir, upload_id)), ['staging'], "A's staging file (both recorded parts) is kept");

    // A dies mid-assembly: after COMPLETING_STALE_MS without a heartbeat, a sweep on B reopens the upload
    t.clock.advance(COMPLETING_STALE_MS - 1);
    await t.b.sweep();
    assert.equal((await t.store.getUpload(upload_id))?.state, 'completing', 'not yet stale');
    t.clock.advance(2);
    await t.b.sweep();
    assert.equal((await t.store.getUpload(upload_id))?.state, 'open', 'stale: reopened, so the client can complete again');
    const done = await t.b.complete('o', upload_id, { parts: [] });
    assert.equal(done.num_bytes, 16);

    // the in-flight file, once older than ORPHAN_PART_AGE_MS with still no row, is an orphan
    const old = (Date.now() - ORPHAN_PART_AGE_MS - 60_000) / 1000;
    utimesSync(inFlight, old, old);
    await t.b.recover({ shared: true });
    assert.ok(!existsSync(inFlight), 'an old orphan part file is deleted');
  } finally {
    await t.store.close();
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('alone on its data (SQLite), a starting server reopens every completing upload and deletes every orphan part', async () => {
  const t = await setup();
  try {
    const init = await t.a.initiate('o', { filename: 'data.bin', num_bytes: 8, file_type: 'application/octet-stream' }, 'http://x');
    const upload_id = String(init.upload_id);
    const tok = await putPart(t.a, init, 0, 'abcdefgh');
    assert.ok((await t.store.beginCompleteUpload(upload_id, [{ part_number: 0, token: tok }], t.clock.now())).ok);
    const orphan = join(t.partsDir, upload_id, 'p0-orphan');
    writeFileSync(orphan, 'zz');
    await t.b.recover(); // the previous process died: nothing is in flight
    assert.equal((await t.store.getUpload(upload_id))?.state, 'open');
    assert.ok(!existsSync(orphan));
    assert.equal(readdirSync(join(t.partsDir, upload_id)).length, 1, 'the recorded part stays');
  } finally {
    await t.store.close();
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('blobs under files/ that no unpurged row names are swept once old enough (a crash between commit and insert, or purge and delete)', async () => {
  const t = await setup();
  try {
    const kept = await t.files.upload('o', 'kept.csv', 'text/csv', Readable.from([Buffer.from('a,b\n1,2\n')]));
    const orgDir = join(t.artifacts, 'files', 'o');
    const keptPath = join(orgDir, kept.file_uid);
    assert.ok(existsSync(keptPath));
    const orphan = join(orgDir, 'fil_crashed'); // renamed into place, then the process died before its row
    const orphanDirect = join(orgDir, 'fil_crashed2.c1');
    writeFileSync(orphan, 'x');
    writeFileSync(orphanDirect, 'y');
    assert.equal(await t.files.sweepOrphanBlobs(ORPHAN_PART_AGE_MS), 0, 'fresh: maybe a commit in flight on another replica');
    const old = (Date.now() - ORPHAN_PART_AGE_MS - 60_000) / 1000;
    for (const p of [orphan, orphanDirect, keptPath]) utimesSync(p, old, old);
    assert.equal(await t.files.sweepOrphanBlobs(ORPHAN_PART_AGE_MS), 2);
    assert.ok(!existsSync(orphan) && !existsSync(orphanDirect), 'the orphans are gone');
    assert.ok(existsSync(keptPath), 'a blob its row names stays, however old');
    // replaced, then its purge marked but the bytes not deleted (a crash in between): an orphan too
    await t.files.upload('o', 'kept.csv', 'text/csv', Readable.from([Buffer.from('a,b\n3,4\n')]));
    await waitForPurge(t.store, kept.file_uid, keptPath);
    writeFileSync(keptPath, 'left behind');
    assert.equal(await t.files.sweepOrphanBlobs(0), 1);
    assert.ok(!existsSync(keptPath));
    assert.equal(readdirSync(orgDir).length, 1, 'only the current version remains');
  } finally {
    await t.store.close();
    rmSync(t.dir, { recursive: true, force: true });
  }
});

/** The replace schedules garbage collection in the background: wait until it purged the old version and deleted its bytes. */
async function waitForPurge(store: SqliteStore, file_uid: string, path: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if ((await store.fileBlobKeysInUse([file_uid])).size === 0 && !existsSync(path)) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`${file_uid} was never purged`);
}

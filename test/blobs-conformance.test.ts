/**
 * The blob store conformance suite: the same checks on local disk and on a real S3-protocol server
 * (s3rver, a child process: test/helpers/s3-server.ts). Put, stream get, ranges, delete, list,
 * atomic commit (nothing named before commit), a writer killed mid-write leaving nothing listed,
 * staged and part uploads, local copies for trainers, presigned GETs and their expiry. Each backend's
 * store sits behind a recorder; its last check fails naming any method of `interface BlobStore`
 * (read from src/blobs/blob-store.ts) that no check called, so a new method cannot go untested.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BlobMismatchError, BlobTooLargeError, type BlobStore } from '../src/blobs/blob-store.js';
import { LocalDiskBlobStore } from '../src/blobs/local-disk.js';
import { S3BlobStore } from '../src/blobs/s3.js';
import { crc32c } from '../src/blobs/crc32c.js';
import { interfaceMethods, recording } from './helpers/interface-methods.js';
import { S3_CREDENTIALS, startS3Server, type S3Server } from './helpers/s3-server.js';

const BLOB_METHODS = interfaceMethods('src/blobs/blob-store.ts', 'BlobStore');

const WRITER = fileURLToPath(new URL('./helpers/blob-writer.js', import.meta.url));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A source that sends `good` bytes, then fails as a client that vanished mid-body. */
function failingSource(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
      } else this.destroy(new Error('client went away'));
    },
  });
}

interface Backend {
  store: BlobStore;
  spec: object; // for the crash child
  /** Fetches a presigned URL (s3 only). */
  cleanup(): Promise<void>;
}

function conformance(name: string, open: () => Promise<Backend>): void {
  describe(`blob store conformance: ${name}`, () => {
    let b: Backend;
    let store: BlobStore;
    const seen = new Set<string>();
    before(async () => {
      b = await open();
      store = recording(b.store, seen);
    });
    after(() => b.cleanup());

    it('puts and streams back a buffer and a multi-part stream, with size and sha256', async () => {
      const small = Buffer.from('hello blobs\n');
      assert.deepEqual(await store.writeBuffer('t1/small', small), { size: small.length, sha256: sha(small) });
      assert.deepEqual(await readAll(store.readStream('t1/small')), small);
      const big = randomBytes(20 * 1024 * 1024 + 123); // > two 8 MiB parts on S3
      const info = await store.writeStream('t1/big', Readable.from([big.subarray(0, 5_000_000), big.subarray(5_000_000)]));
      assert.deepEqual(info, { size: big.length, sha256: sha(big) });
      assert.equal(await store.size('t1/big'), big.length);
      assert.equal(sha(await readAll((await store.openRead('t1/big'))!)), sha(big));
    });

    it('reads inclusive byte ranges', async () => {
      const data = Buffer.from('0123456789abcdef');
      await store.writeBuffer('t2/r', data);
      assert.equal((await readAll((await store.openRead('t2/r', { start: 3, end: 7 }))!)).toString(), '34567');
      assert.equal((await readAll(store.readStream('t2/r', { start: 15, end: 15 }))).toString(), 'f');
    });

    it('answers null for a missing object, deletes (missing tolerated) and deletes a prefix', async () => {
      assert.equal(await store.openRead('t3/none'), null);
      assert.equal(await store.size('t3/none'), null);
      await assert.rejects(readAll(store.readStream('t3/none')));
      await store.delete('t3/none');
      await store.writeBuffer('t3/a/1', 'x');
      await store.writeBuffer('t3/a/2', 'y');
      await store.writeBuffer('t3/b', 'z');
      await store.delete('t3/b');
      assert.equal(await store.size('t3/b'), null);
      await store.deletePrefix('t3/a');
      assert.deepEqual(await store.listKeys('t3', 0), []);
    });

    it('lists keys under a prefix, and only old enough ones when asked', async () => {
      await store.writeBuffer('t4/x/1', 'a');
      await store.writeBuffer('t4/x/2', 'b');
      await store.writeBuffer('t4/y', 'c');
      assert.deepEqual((await store.listKeys('t4/x', 0)).sort(), ['t4/x/1', 't4/x/2']);
      assert.deepEqual((await store.listKeys('t4', 0)).sort(), ['t4/x/1', 't4/x/2', 't4/y']);
      assert.deepEqual(await store.listKeys('t4', 3600_000), []); // written just now
    });

    it('names a staged object only on commit; discard and over-limit leave nothing', async () => {
      const data = randomBytes(9 * 1024 * 1024);
      let tapped = 0;
      const staged = await store.stage(Readable.from([data]), { key: 't5/committed', tap: (c) => (tapped += c.length) });
      assert.equal(tapped, data.length);
      assert.deepEqual({ size: staged.size, sha256: staged.sha256 }, { size: data.length, sha256: sha(data) });
      assert.deepEqual(await store.listKeys('t5', 0), [], 'nothing listed before commit');
      assert.equal(await store.size('t5/committed'), null);
      await staged.commit('t5/committed');
      assert.deepEqual(await store.listKeys('t5', 0), ['t5/committed']);
      assert.equal(sha(await readAll(store.readStream('t5/committed'))), sha(data));

      const dropped = await store.stage(Readable.from([Buffer.from('bye')]), { key: 't5/dropped' });
      await dropped.discard();
      const over = await store.stage(Readable.from([Buffer.alloc(100), Buffer.alloc(100)]), { maxBytes: 150, key: 't5/over' });
      assert.equal(over.overLimit, true);
      await over.discard();
      const unkeyed = await store.stage(Readable.from([Buffer.from('later')]));
      await unkeyed.commit('t5/unkeyed'); // final key chosen after the bytes arrived
      assert.deepEqual((await store.listKeys('t5', 0)).sort(), ['t5/committed', 't5/unkeyed']);
      assert.equal((await readAll(store.readStream('t5/unkeyed'))).toString(), 'later');
    });

    it('a failed or over-limit write leaves nothing, and a mismatching import is refused', async () => {
      await assert.rejects(store.writeStream('t6/broken', failingSource(randomBytes(10 * 1024 * 1024))), /went away/);
      await assert.rejects(store.writeStream('t6/big', Readable.from([Buffer.alloc(300)]), { maxBytes: 200 }), BlobTooLargeError);
      await assert.rejects(store.stage(failingSource(Buffer.alloc(10)), { key: 't6/staged' }), /went away/);
      const dir = mkdtempSync(join(tmpdir(), 'blob-import-'));
      const src = join(dir, 'ckpt');
      writeFileSync(src, 'weights');
      await assert.rejects(store.importFile(src, 't6/imp', { size: 7, sha256: '0'.repeat(64) }), BlobMismatchError);
      assert.deepEqual(await store.listKeys('t6', 0), []);
      await store.importFile(src, 't6/imp', { size: 7, sha256: sha(Buffer.from('weights')) });
      assert.equal(await store.size('t6/imp'), 7);
      await store.returnFile('t6/imp', src); // undo: the bytes back at the path, the key gone
      assert.equal(readFileSync(src, 'utf8'), 'weights');
      assert.equal(await store.size('t6/imp'), null);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a writer killed mid-write leaves nothing listed, and the sweep clears its leftovers', async () => {
      const child = spawn(process.execPath, [WRITER, JSON.stringify(b.spec), 't7/crash'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('WRITING') && resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.deepEqual(await store.listKeys('t7', 0), []);
      assert.equal(await store.size('t7/crash'), null);
      await store.sweepTemp(0);
      assert.deepEqual(await store.listKeys('t7', 0), []);
    });

    it('direct-upload parts: written once in place, in any order, read back once through the checks, committed, deleted', async () => {
      const p0 = randomBytes(6 * 1024 * 1024);
      const p1 = Buffer.from('tail part');
      const whole = Buffer.concat([p0, p1]);
      const w = { partSize: p0.length, numBytes: whole.length };
      await store.openParts('up_1', { key: 't8/file', ...w });
      const b1 = await store.writePart('up_1', Readable.from([p1]), { number: 1, length: p1.length, ...w });
      const a0 = await store.writePart('up_1', Readable.from([p0]), { number: 0, length: p0.length, ...w });
      const over = await store.writePart('up_1', Readable.from([Buffer.alloc(200)]), { number: 1, length: p1.length, ...w });
      assert.equal(over.overLimit, true);
      assert.deepEqual([a0.size, b1.size], [p0.length, p1.length]);
      assert.deepEqual([...(await store.listPartGroups()).keys()], ['up_1']);
      assert.deepEqual((await store.listPartGroups(3600_000)).get('up_1'), [], 'written just now: the group, none of its data old enough');
      const spec = [{ number: 0, name: a0.name, numBytes: p0.length, crc32c: crc32c(p0) }, { number: 1, name: b1.name, numBytes: p1.length, crc32c: crc32c(p1) }];
      let tapped = 0;
      const r = await store.stageParts('up_1', spec, { key: 't8/file', tap: (c) => (tapped += c.length) });
      assert.deepEqual(r.broken, []);
      assert.deepEqual({ size: r.staged!.size, sha256: r.staged!.sha256, tapped }, { size: whole.length, sha256: sha(whole), tapped: whole.length });
      await r.staged!.commit('t8/file');
      assert.equal(sha(await readAll(store.readStream('t8/file'))), sha(whole));
      await store.deleteParts('up_1');
      assert.equal((await store.listPartGroups()).get('up_1'), undefined);
      assert.equal(sha(await readAll(store.readStream('t8/file'))), sha(whole), 'deleting the parts leaves the object');
    });

    it('direct-upload parts: bytes that changed after a part was recorded are found at complete, nothing is committed, a re-send fixes it', async () => {
      const p0 = randomBytes(5 * 1024 * 1024);
      const p1 = randomBytes(1000);
      const w = { partSize: p0.length, numBytes: p0.length + p1.length };
      await store.openParts('up_2', { key: 't8/raced', ...w });
      const a0 = await store.writePart('up_2', Readable.from([p0]), { number: 0, length: p0.length, ...w });
      const b1 = await store.writePart('up_2', Readable.from([p1]), { number: 1, length: p1.length, ...w });
      // a second PUT of part 0 whose record lost the race: its bytes landed, the row kept the first CRC
      const raced = await store.writePart('up_2', Readable.from([randomBytes(p0.length)]), { number: 0, length: p0.length, ...w });
      const spec = [{ number: 0, name: a0.name, numBytes: p0.length, crc32c: crc32c(p0) }, { number: 1, name: b1.name, numBytes: p1.length, crc32c: crc32c(p1) }];
      const bad = await store.stageParts('up_2', spec, { key: 't8/raced' });
      assert.equal(bad.staged, null);
      assert.ok(bad.broken.includes(0), `part 0 is broken (${bad.broken})`);
      assert.ok(!bad.broken.includes(1) || name !== 'local disk', 'on disk only the changed part must be sent again');
      assert.equal(await store.size('t8/raced'), null, 'nothing committed');
      assert.ok(raced.size === p0.length);
      // the client sends the broken parts again
      const again = new Map<number, string>();
      for (const n of bad.broken) {
        const bytes = n === 0 ? p0 : p1;
        again.set(n, (await store.writePart('up_2', Readable.from([bytes]), { number: n, length: bytes.length, ...w })).name);
      }
      const fixed = spec.map((p) => ({ ...p, name: again.get(p.number) ?? p.name }));
      const ok = await store.stageParts('up_2', fixed, { key: 't8/raced' });
      assert.deepEqual(ok.broken, []);
      await ok.staged!.commit('t8/raced');
      assert.equal(sha(await readAll(store.readStream('t8/raced'))), sha(Buffer.concat([p0, p1])));
      await store.deleteParts('up_2');
    });

    it('direct-upload parts past 64 MiB (CRC-32C re-checked on a thread of its own on disk): a part changed after its record is found', async () => {
      const partSize = 8 * 1024 * 1024;
      const bytes = [...Array.from({ length: 8 }, () => randomBytes(partSize)), randomBytes(1000)]; // 64 MiB + 1000 B
      const w = { partSize, numBytes: bytes.reduce((n, b) => n + b.length, 0) };
      await store.openParts('up_big', { key: 't8/big', ...w });
      const names: string[] = [];
      for (const [n, b] of bytes.entries()) names.push((await store.writePart('up_big', Readable.from([b]), { number: n, length: b.length, ...w })).name);
      await store.writePart('up_big', Readable.from([randomBytes(partSize)]), { number: 5, length: partSize, ...w }); // landed, never recorded
      const spec = bytes.map((b, n) => ({ number: n, name: names[n]!, numBytes: b.length, crc32c: crc32c(b) }));
      const bad = await store.stageParts('up_big', spec, { key: 't8/big' });
      assert.equal(bad.staged, null);
      if (name === 'local disk') assert.deepEqual(bad.broken, [5], 'only the changed part must be sent again');
      else assert.ok(bad.broken.includes(5), `part 5 is broken (${bad.broken})`);
      for (const n of bad.broken) names[n] = (await store.writePart('up_big', Readable.from([bytes[n]!]), { number: n, length: bytes[n]!.length, ...w })).name;
      const ok = await store.stageParts('up_big', spec.map((p) => ({ ...p, name: names[p.number]! })), { key: 't8/big' });
      assert.deepEqual(ok.broken, []);
      assert.equal(ok.staged!.sha256, sha(Buffer.concat(bytes)));
      await ok.staged!.commit('t8/big');
      assert.equal(sha(await readAll(store.readStream('t8/big'))), sha(Buffer.concat(bytes)));
      await store.deleteParts('up_big');
      await store.delete('t8/big');
    });

    it('direct-upload parts, verified by the caller: committed without a read, under the size and sha256 given; a missing part is still found', async () => {
      const p0 = randomBytes(5 * 1024 * 1024);
      const p1 = randomBytes(777);
      const whole = Buffer.concat([p0, p1]);
      const w = { partSize: p0.length, numBytes: whole.length };
      await store.openParts('up_ver', { key: 't8/verified', ...w });
      const a0 = await store.writePart('up_ver', Readable.from([p0]), { number: 0, length: p0.length, ...w });
      const spec = [{ number: 0, name: a0.name, numBytes: p0.length, crc32c: crc32c(p0) }, { number: 1, name: 'never-written', numBytes: p1.length, crc32c: crc32c(p1) }];
      const verified = { size: whole.length, sha256: sha(whole) };
      if (name === 'local disk') {
        // Local disk checks the layout only: part 1 names no bytes in the staging file.
        const missing = await store.stageParts('up_ver', spec, { key: 't8/verified', verified });
        assert.equal(missing.staged, null);
        assert.deepEqual(missing.broken, [1]);
      }
      const b1 = await store.writePart('up_ver', Readable.from([p1]), { number: 1, length: p1.length, ...w });
      const ok = await store.stageParts('up_ver', [spec[0]!, { ...spec[1]!, name: b1.name }], { key: 't8/verified', verified });
      assert.deepEqual(ok.broken, []);
      assert.deepEqual({ size: ok.staged!.size, sha256: ok.staged!.sha256 }, verified);
      await ok.staged!.commit('t8/verified');
      assert.equal(sha(await readAll(store.readStream('t8/verified'))), sha(whole));
      await store.deleteParts('up_ver');
      await store.delete('t8/verified');
    });

    it('direct-upload parts: the sweep deletes groups no live upload names, and keeps live ones', async () => {
      const w = { partSize: 4, numBytes: 4 };
      await store.openParts('up_live', { key: 't8/live', ...w });
      await store.openParts('up_dead', { key: 't8/dead', ...w });
      for (const g of ['up_live', 'up_dead']) await store.writePart(g, Readable.from([Buffer.from('abcd')]), { number: 0, length: 4, ...w });
      const live = (await store.listPartGroups()).get('up_live')!;
      await store.sweepParts(new Map([['up_live', name === 'local disk' ? live : []]]), 0);
      const left = await store.listPartGroups();
      assert.ok(left.has('up_live'));
      assert.ok(!left.has('up_dead'));
      await store.deleteParts('up_live');
    });

    it('gives trainers a local path with the bytes, and scratch folders', async () => {
      await store.writeBuffer('t9/data.csv', 'a,b\n1,2\n');
      assert.equal(readFileSync(await store.localPath('t9/data.csv'), 'utf8'), 'a,b\n1,2\n');
      const dir = await store.scratchDir('job-1/attempt-1');
      writeFileSync(join(dir, 'x'), 'scratch');
      assert.match(store.uri('t9/data.csv'), /^(file|s3):\/\//);
    });

    it('presigned GET: the bytes while valid, refused once expired (local disk: none, downloads go through the API)', async () => {
      await store.writeBuffer('t10/out.csv', 'label\nidle\n');
      const url = await store.presignGet('t10/out.csv', 3600_000);
      if (name === 'local disk') return assert.equal(url, null);
      assert.ok(url);
      const ok = await fetch(url);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'label\nidle\n');
      const old = await store.presignGet('t10/out.csv', 3600_000, new Date(Date.now() - 2 * 3600_000)); // signed 2 h ago for 1 h
      const expired = await fetch(old!);
      assert.equal(expired.status, 403);
      assert.match(await expired.text(), /expired/);
    });

    it('says whether uploads stream straight in (object storage) or land in a scratch file first (local disk)', () => {
      assert.equal(store.streamsUploads, name !== 'local disk');
    });

    it('every BlobStore method is called by a check', () => {
      assert.ok(BLOB_METHODS.length >= 20 && BLOB_METHODS.includes('writePart'), `blob-store.ts parsed to ${BLOB_METHODS.join(', ')}`);
      const missed = BLOB_METHODS.filter((m) => !seen.has(m));
      assert.deepEqual(missed, [], `BlobStore methods no check called: ${missed.join(', ')}`);
    });
  });
}

conformance('local disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-local-'));
  return { store: new LocalDiskBlobStore(root), spec: { kind: 'local', root }, cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});

let server: S3Server;
conformance('s3 (s3rver)', async () => {
  server = await startS3Server();
  const cacheDir = mkdtempSync(join(tmpdir(), 'blobs-s3-cache-'));
  const url = `s3://${server.bucket}/conf`;
  const store = new S3BlobStore({ url, endpoint: server.endpoint, forcePathStyle: true, cacheDir, credentials: S3_CREDENTIALS });
  return {
    store, spec: { kind: 's3', url, endpoint: server.endpoint, cacheDir },
    cleanup: async () => {
      await server.stop();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
});

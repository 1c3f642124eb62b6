/**
 * The remote worker's local copies of datasets and checkpoints, by content: `<dir>/blobs/<sha256>`.
 * A download streams into `<dir>/tmp/`, hashing as it goes, and is renamed into place only when its
 * size and sha256 match the ref the control plane gave at claim, so a file in `blobs/` is always
 * whole and verified (a dataset used by the next job is not downloaded again). Concurrent requests
 * for one file share one download. Past `maxBytes`, least recently used files are evicted (files
 * in use by a running attempt are kept).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomHex } from '../lib/ids.js';
import type { RemoteRef } from '../domain/work.js';
import { isTransient, RemoteHttpError, type WorkerHttp } from './remote-http.js';

const SHA256 = /^[0-9a-f]{64}$/;

export class RemoteCache {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly inUse = new Map<string, number>(); // sha256 → attempts using it

  constructor(readonly dir: string, private readonly maxBytes: number) {}

  /** A verified local copy of `ref`; downloads (fenced by the lease token) when missing. */
  async get(http: WorkerHttp, ref: RemoteRef, leaseToken: number, until: () => number, signal: AbortSignal): Promise<string> {
    if (!SHA256.test(ref.sha256)) throw new Error(`bad sha256 in ref ${ref.url}`);
    const path = join(this.dir, 'blobs', ref.sha256);
    const st = await stat(path).catch(() => null);
    if (st && st.size === ref.size) {
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined); // recency for the LRU
      return path;
    }
    let p = this.inflight.get(ref.sha256);
    if (!p) {
      p = this.download(http, ref, path, leaseToken, until, signal).finally(() => this.inflight.delete(ref.sha256));
      this.inflight.set(ref.sha256, p);
    }
    return p;
  }

  /** Marks files as used by a running attempt (never evicted meanwhile); returns the release. */
  hold(sha256s: string[]): () => void {
    for (const s of sha256s) this.inUse.set(s, (this.inUse.get(s) ?? 0) + 1);
    return () => {
      for (const s of sha256s) {
        const n = (this.inUse.get(s) ?? 1) - 1;
        if (n <= 0) this.inUse.delete(s);
        else this.inUse.set(s, n);
      }
    };
  }

  private async download(http: WorkerHttp, ref: RemoteRef, path: string, leaseToken: number, until: () => number, signal: AbortSignal): Promise<string> {
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    await mkdir(join(this.dir, 'blobs'), { recursive: true });
    for (;;) {
      const tmp = join(this.dir, 'tmp', randomHex(16));
      try {
        const res = await http.fetch(ref.url, { headers: { 'x-ftnode-lease-token': String(leaseToken) }, until, signal });
        if (!res.ok || !res.body) throw new RemoteHttpError(res.status, await res.text());
        const hash = createHash('sha256');
        let size = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            hash.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), tap, createWriteStream(tmp));
        const sha256 = hash.digest('hex');
        if (size !== ref.size || sha256 !== ref.sha256) throw new Error(`download of ${ref.url} does not match: ${size} bytes sha256 ${sha256}, expected ${ref.size} bytes sha256 ${ref.sha256}`);
        await rename(tmp, path);
        return path;
      } catch (err) {
        await rm(tmp, { force: true });
        // A connection that broke mid-body is retried while the lease lasts; refusals and mismatches are not.
        if (signal.aborted || !isTransient(err) || performance.now() > until()) throw err;
      }
    }
  }

  /** Deletes least recently used files until the cache is under maxBytes (files in use are kept). */
  async evict(): Promise<number> {
    const dir = join(this.dir, 'blobs');
    const files = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const st = await stat(join(dir, name)).catch(() => null);
      if (st) files.push({ name, size: st.size, mtime: st.mtimeMs });
    }
    let total = files.reduce((n, f) => n + f.size, 0);
    let removed = 0;
    for (const f of files.sort((a, b) => a.mtime - b.mtime)) {
      if (total <= this.maxBytes) break;
      if (this.inUse.has(f.name) || this.inflight.has(f.name)) continue;
      await rm(join(dir, f.name), { force: true });
      total -= f.size;
      removed++;
    }
    return removed;
  }
}

/**
 * BlobStore on a local (or shared NFS-style) directory. Layout: `<root>/<key>` for committed objects,
 * `<root>/.tmp/` for writes in flight, `<root>/.work/` for trainer scratch folders, `<root>/.parts/`
 * for parts of direct uploads (local-staging.ts). Renames within one filesystem are atomic, which is
 * what makes commits all-or-nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { BlobMismatchError, BlobTooLargeError, type BlobInfo, type BlobStore, type StageOptions, type StagedBlob, type StagedPart } from './blob-store.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { PartSpec, PartWrite } from './blob-store.js';
import {
  checkStagingFile, checkStagingLayout, deletePartFiles, fsyncPath, listPartFiles, openReadStream, partDir, STAGING_NAME, streamToFile, writePartInPlace, type StreamResult,
} from './local-staging.js';

/** Memory for chunked part PUTs held until their last byte (PartWrite.holdUntilComplete). */
export const HOLD_BUDGET_BYTES = 256 * 1024 * 1024;

export class LocalDiskBlobStore implements BlobStore {
  readonly streamsUploads = false;
  readonly minPartBytes = 1;
  readonly root: string;
  private readonly tmpDir: string;
  private readonly partsDir: string;
  /** Part writes in flight in this process, by group: complete waits for them before it reads the staging file. */
  private readonly writers = new Map<string, Set<Promise<unknown>>>();
  private heldBytes = 0; // bytes of chunked part PUTs held until complete (writePart)

  /** `clock` names temporary files and dates the sweeps (file mtimes are compared with it). */
  constructor(root: string, private readonly clock: Clock = systemClock) {
    this.root = resolve(root);
    this.tmpDir = join(this.root, '.tmp');
    this.partsDir = join(this.root, '.parts');
  }

  private pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep) || key.startsWith('.')) throw new Error(`blob key outside the store: ${key}`);
    return p;
  }

  private async tempPath(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${this.clock.now()}-${randomBytes(8).toString('hex')}`);
  }

  private async commit(tmp: string, key: string): Promise<void> {
    const dest = this.pathOf(key);
    await mkdir(dirname(dest), { recursive: true });
    await rename(tmp, dest);
  }

  async writeStream(key: string, source: Readable, opts: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const tmp = await this.tempPath();
    const hash = createHash('sha256');
    let size = 0;
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > limit) return cb(new BlobTooLargeError(limit));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp));
      await fsyncFile(tmp);
      await this.commit(tmp, key);
      return { size, sha256: hash.digest('hex') };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async writeBuffer(key: string, data: Buffer | string): Promise<BlobInfo> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const tmp = await this.tempPath();
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.commit(tmp, key);
    return { size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  }

  async importFile(srcPath: string, key: string, expect: BlobInfo): Promise<void> {
    const actual = await hashFile(srcPath);
    if (actual.size !== expect.size || actual.sha256 !== expect.sha256) {
      throw new BlobMismatchError(`expected ${expect.size} bytes sha256 ${expect.sha256}, found ${actual.size} bytes sha256 ${actual.sha256}`);
    }
    await this.commit(srcPath, key);
  }

  async returnFile(key: string, destPath: string): Promise<void> {
    await rename(this.pathOf(key), destPath);
  }

  readStream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range);
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch(() => undefined);
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  async localPath(key: string): Promise<string> {
    return this.pathOf(key);
  }

  async presignGet(): Promise<string | null> {
    return null; // downloads go through the API (relative refs, signed by the server)
  }

  uri(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  async listKeys(prefix: string, minAgeMs: number): Promise<string[]> {
    const cutoff = this.clock.now() - minAgeMs;
    const out: string[] = [];
    const walk = async (dir: string, key: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const k = `${key}/${e.name}`;
        if (e.isDirectory()) await walk(join(dir, e.name), k);
        else if (e.isFile() && (minAgeMs <= 0 || ((await stat(join(dir, e.name)).catch(() => null))?.mtimeMs ?? Infinity) <= cutoff)) out.push(k);
      }
    };
    await walk(this.pathOf(prefix), prefix);
    return out;
  }

  async scratchDir(name: string): Promise<string> {
    const dir = join(this.root, '.work', name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async sweepTemp(olderThanMs: number): Promise<number> {
    await mkdir(this.tmpDir, { recursive: true }); // the layout exists from the first start (docs/architecture.md)
    let removed = 0;
    const cutoff = this.clock.now() - olderThanMs;
    for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
      const p = join(this.tmpDir, name);
      const s = await stat(p).catch(() => null);
      if (s && (olderThanMs <= 0 || s.mtimeMs < cutoff)) {
        await rm(p, { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }

  // ---- streamed uploads (local-staging.ts holds the stream plumbing)
  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    const tmp = await this.tempPath();
    return this.staged(tmp, await streamToFile(tmp, source, opts));
  }

  private staged(tmp: string, r: StreamResult): StagedBlob {
    let done = r.overLimit; // an over-limit stream left no file
    return {
      size: r.size,
      sha256: r.sha256,
      overLimit: r.overLimit,
      commit: async (key: string) => {
        if (done) throw new Error('staged blob already committed or discarded');
        done = true;
        try {
          await fsyncPath(tmp);
          await this.commit(tmp, key);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
      },
      discard: async () => {
        if (done) return;
        done = true;
        await rm(tmp, { force: true });
      },
    };
  }

  openRead(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    return openReadStream(this.pathOf(key), range);
  }

  openParts(): Promise<void> {
    return Promise.resolve(); // the staging file is created by the first byte of a part
  }

  async writePart(group: string, source: Readable, opts: PartWrite): Promise<StagedPart> {
    // Chunked part PUTs are held in memory until complete, within HOLD_BUDGET_BYTES for the process
    // (8 MiB parts: 32 at once); past it they stream in place as a declared length does.
    const hold = opts.holdUntilComplete === true && this.heldBytes + opts.length <= HOLD_BUDGET_BYTES;
    if (hold) this.heldBytes += opts.length;
    const w = writePartInPlace(this.partsDir, group, source, opts, hold).finally(() => {
      if (hold) this.heldBytes -= opts.length;
    });
    const set = this.writers.get(group) ?? new Set<Promise<unknown>>();
    this.writers.set(group, set);
    set.add(w);
    try {
      return await w;
    } finally {
      set.delete(w);
      if (set.size === 0) this.writers.delete(group);
    }
  }

  async stageParts(group: string, parts: PartSpec[], opts: StageOptions & { key: string; verified?: BlobInfo }): Promise<{ staged: StagedBlob | null; broken: number[] }> {
    // A PUT of this upload that started before complete may still be writing here: let it finish
    // (it cannot be recorded now), so the read below sees every byte it will ever write.
    await Promise.allSettled([...(this.writers.get(group) ?? [])]);
    // Every byte is written: the fsync commit() needs runs while the read checks them, instead of
    // after (1 GB here: the read-back took 0.9 s, the fsync 0.35-0.45 s). Wasted, and harmless,
    // when a part turns out broken.
    const synced = fsyncPath(join(partDir(this.partsDir, group), STAGING_NAME));
    synced.catch(() => undefined); // awaited by commit(); a missing file is reported by the check
    const r = opts.verified ? await checkStagingLayout(this.partsDir, group, parts, opts.verified) : await checkStagingFile(this.partsDir, group, parts, opts);
    if (r.broken.length > 0) return { staged: null, broken: r.broken };
    // The staging file itself becomes the object (fsync + rename): nothing is copied. discard()
    // keeps it, so the parts stay usable for another complete.
    let done = false;
    return {
      broken: [],
      staged: {
        size: r.size, sha256: r.sha256, overLimit: false,
        commit: async (key: string) => {
          if (done) throw new Error('staged blob already committed or discarded');
          done = true;
          await synced;
          await this.commit(r.path, key);
        },
        discard: async () => {
          done = true;
        },
      },
    };
  }

  deleteParts(group: string): Promise<void> {
    return deletePartFiles(this.partsDir, group);
  }

  async sweepParts(live: Map<string, string[]>, minAgeMs: number): Promise<void> {
    for (const [group, names] of await this.listPartGroups(minAgeMs)) {
      const keep = live.get(group);
      if (!keep && minAgeMs <= 0) await deletePartFiles(this.partsDir, group);
      else await deletePartFiles(this.partsDir, group, names.filter((n) => !keep?.includes(n)));
    }
  }

  listPartGroups(minAgeMs = 0): Promise<Map<string, string[]>> {
    return listPartFiles(this.partsDir, minAgeMs, this.clock.now());
  }
}

export async function hashFile(path: string): Promise<BlobInfo> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

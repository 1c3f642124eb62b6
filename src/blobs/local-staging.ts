/**
 * Streamed writes of the local-disk blob store for uploads: a source is metered into a temporary
 * file (sha256 and an optional tap computed on the way), never buffered whole. Invariants:
 * - a source that fails (client gone mid-body) leaves no file behind;
 * - past `maxBytes` the bytes are dropped but the source is still read to its end, because the
 *   HTTP client must be able to read the 413 after sending its whole body (docs/spec.md#files);
 * - part files of direct uploads live in `<root>/.parts/<group>/`, one file per received part, so
 *   parts can arrive concurrently and out of order without sharing a file descriptor.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, open as fsOpen } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StageOptions } from './blob-store.js';

/** 1 MiB reads into one reused buffer (assembly): per-read overhead is negligible at this size. */
export const READ_CHUNK = 1 << 20;
/**
 * Downloads stream in 64 KiB reads: each read allocates a new buffer, and below glibc's 128 KiB mmap
 * threshold those come from the reused heap instead of fresh pages (500 MB: 0.38-0.61 s system time
 * at 64 KiB against 0.45-1.39 s at 1 MiB).
 */
const DOWNLOAD_CHUNK = 64 * 1024;
/**
 * Write buffer of 1 MiB: while one write is in the thread pool the next chunks queue and go out
 * together (writev), so receiving and writing overlap; with the 16 KiB default every 64 KiB socket
 * chunk waited for the previous write. Measured writing 500 MB in 64 KiB chunks: 16 KiB 0.46-0.75 s,
 * 256 KiB 0.42-0.50 s, 1 MiB 0.26-0.34 s, 2-4 MiB 0.49-1.86 s (more system time per byte).
 */
const WRITE_BUFFER = 1 << 20;

export interface StreamResult {
  size: number;
  sha256: string;
  overLimit: boolean;
}

/** Streams `source` into `path` (see the header for the invariants). */
export async function streamToFile(path: string, source: Readable, opts: StageOptions = {}): Promise<StreamResult> {
  const hash = opts.hash === false ? null : createHash('sha256');
  const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const tap = opts.tap;
  let size = 0;
  let over = false;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (over || size + chunk.length > limit) {
        over = true; // keep reading, drop the bytes
        return cb();
      }
      size += chunk.length;
      hash?.update(chunk);
      tap?.(chunk);
      cb(null, chunk);
    },
  });
  // stream.pipeline never settles for a source destroyed before it is attached (Node 20): the
  // multipart parser destroys a part whose body broke off, possibly while we were opening the file.
  if (source.destroyed) throw Object.assign(new Error('the upload stream was closed before it could be stored'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  try {
    const sink = createWriteStream(path, { highWaterMark: WRITE_BUFFER });
    if (opts.through) await pipeline(source, opts.through, meter, sink);
    else await pipeline(source, meter, sink);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  if (over) await rm(path, { force: true });
  return { size, sha256: hash ? hash.digest('hex') : '', overLimit: over };
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Opens first, then streams: ENOENT becomes null before any response byte is written. */
export async function openReadStream(path: string, range?: { start: number; end: number }): Promise<Readable | null> {
  let fd: number;
  try {
    fd = await new Promise<number>((resolve, reject) => fsOpen(path, 'r', (err, d) => (err ? reject(err) : resolve(d))));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // A plain fd stream, not FileHandle.createReadStream: the FileHandle one reads through promises
  // and cost the server about twice the CPU of the bare floor per GB (docs/benchmarks-files.md).
  return createReadStream('', { fd, ...range, highWaterMark: DOWNLOAD_CHUNK });
}

export function uniqueName(label: string): string {
  return `${label}-${Date.now()}-${randomBytes(6).toString('hex')}`;
}

/** The folder of one part group; group names are ids ([A-Za-z0-9_-]), never paths. */
export function partDir(partsRoot: string, group: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(group)) throw new Error(`bad part group name: ${group}`);
  return join(partsRoot, group);
}

function checkPartName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(name) || name.startsWith('.')) throw new Error(`bad part name: ${name}`);
  return name;
}

export async function writePartFile(partsRoot: string, group: string, source: Readable, opts: { maxBytes: number; label: string; tap?: (chunk: Buffer) => void }) {
  const dir = partDir(partsRoot, group);
  await mkdir(dir, { recursive: true });
  const name = uniqueName(opts.label);
  const r = await streamToFile(join(dir, name), source, { maxBytes: opts.maxBytes, hash: false, tap: opts.tap });
  return { name, size: r.size, overLimit: r.overLimit };
}

/**
 * Concatenates part files into `dest` through TWO reused 1 MiB buffers, double-buffered: while one
 * buffer's write runs in the thread pool, the next is read and hashed on this thread, so a chunk
 * costs max(hash, read + write) instead of their sum (sha256 is ~0.63 s per GB here, the copy about
 * as much). Reused buffers, not a stream pipeline: a pipeline allocates a fresh 1 MiB buffer per
 * read, and the page faults of that new memory cost more system time than the copy (500 MB:
 * 0.45-1.39 s system time through streams against 0.18-0.26 s with a reused buffer).
 */
export async function concatPartFiles(partsRoot: string, group: string, names: string[], dest: string, opts: StageOptions = {}): Promise<StreamResult> {
  const dir = partDir(partsRoot, group);
  const hash = opts.hash === false ? null : createHash('sha256');
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)] as const;
  const out = await open(dest, 'w');
  let size = 0;
  let writing: Promise<unknown> | null = null; // the previous chunk's write, still in flight
  let turn = 0;
  try {
    for (const name of names) {
      const part = await open(join(dir, checkPartName(name)), 'r');
      try {
        for (;;) {
          const buf = buffers[turn]!; // the other buffer may still be being written
          const n = (await part.read(buf, 0, READ_CHUNK, null)).bytesRead;
          if (n === 0) break;
          const chunk = buf.subarray(0, n);
          hash?.update(chunk);
          opts.tap?.(chunk);
          if (writing) await writing;
          writing = out.write(chunk, 0, n, null);
          size += n;
          turn ^= 1;
        }
      } finally {
        await part.close();
      }
    }
    if (writing) await writing;
  } catch (err) {
    await writing?.catch(() => undefined);
    await out.close().catch(() => undefined);
    await rm(dest, { force: true });
    throw err;
  }
  await out.close();
  return { size, sha256: hash ? hash.digest('hex') : '', overLimit: false };
}

export async function deletePartFiles(partsRoot: string, group: string, names?: string[]): Promise<void> {
  const dir = partDir(partsRoot, group);
  if (!names) return rm(dir, { recursive: true, force: true });
  for (const name of names) await rm(join(dir, checkPartName(name)), { force: true });
}

/** Part files by group; with `minAgeMs`, only those whose mtime is at least that old (a PUT in flight keeps its file fresh). */
export async function listPartFiles(partsRoot: string, minAgeMs = 0): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const cutoff = Date.now() - minAgeMs;
  for (const group of await readdir(partsRoot).catch(() => [] as string[])) {
    const names = await readdir(join(partsRoot, group)).catch(() => [] as string[]);
    if (minAgeMs <= 0) {
      out.set(group, names);
      continue;
    }
    const old: string[] = [];
    for (const n of names) {
      const s = await stat(join(partsRoot, group, n)).catch(() => null);
      if (s && s.mtimeMs <= cutoff) old.push(n);
    }
    out.set(group, old);
  }
  return out;
}

/**
 * Streamed writes of the local-disk blob store for uploads: a source is metered into a temporary
 * file (sha256 and an optional tap computed on the way), never buffered whole. Invariants:
 * - a source that fails (client gone mid-body) leaves no file behind;
 * - past `maxBytes` the bytes are dropped but the source is still read to its end, because the
 *   HTTP client must be able to read the 413 after sending its whole body (docs/spec.md#files);
 * - a direct upload's parts are written once, in place: each PUT pwrites its bytes at its offset of
 *   one staging file, `<root>/.parts/<group>/staging` (sized to the whole file at its first byte),
 *   through its own file descriptor, so parts arrive concurrently and out of order; complete reads
 *   it once for sha256 (checkStagingFile), with the CRC-32C re-check on a thread of its own for
 *   files of 64 MiB and more (parts-crc.ts), and renames it into place. Bytes of a PUT that broke off stay in
 *   place unrecorded; the CRC-32C re-check at complete catches any that overwrote a recorded part.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream, open as fsOpen, writev as fsWritev } from 'node:fs';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PartSpec, PartWrite, StageOptions } from './blob-store.js';
import { PartsChecker } from './parts-check.js';
import { OFF_THREAD_MIN_BYTES, partCrcsOffThread } from './parts-crc.js';

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

/**
 * Counts the bytes passing through and hands each to `onChunk`; past `limit` it keeps reading but
 * drops the bytes (so the client's body is consumed and it gets an answer, not a reset).
 */
function byteMeter(limit: number, onChunk: (chunk: Buffer) => void): { stream: Transform; readonly size: number; readonly over: boolean } {
  const state = { size: 0, over: false };
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (state.over || state.size + chunk.length > limit) {
        state.over = true;
        return cb();
      }
      state.size += chunk.length;
      onChunk(chunk);
      cb(null, chunk);
    },
  });
  return { stream, get size() { return state.size; }, get over() { return state.over; } };
}

/** Streams `source` into `path` (see the header for the invariants). */
export async function streamToFile(path: string, source: Readable, opts: StageOptions = {}): Promise<StreamResult> {
  const hash = opts.hash === false ? null : createHash('sha256');
  const tap = opts.tap;
  const m = byteMeter(opts.maxBytes ?? Number.POSITIVE_INFINITY, (chunk) => {
    hash?.update(chunk);
    tap?.(chunk);
  });
  const meter = m.stream;
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
  if (m.over) await rm(path, { force: true });
  return { size: m.size, sha256: hash ? hash.digest('hex') : '', overLimit: m.over };
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

export function uniqueName(label: string, now: number): string {
  return `${label}-${now}-${randomBytes(6).toString('hex')}`;
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

/** The one file a direct upload's parts are written into, each at its offset; every part's row names it. */
export const STAGING_NAME = 'staging';

/**
 * A Writable that pwrites what it receives at `position` onwards of `path`, opening (and creating,
 * sized to `size`) the file only at its first byte: a PUT refused before any byte was accepted
 * leaves no file. Chunks queued while a write is in the thread pool go out together (writev), as
 * the 1 MiB write buffer of streamToFile does.
 */
class InPlaceWriter extends Writable {
  private handle: FileHandle | null = null;
  private pos: number;

  constructor(private readonly path: string, position: number, private readonly size: number) {
    super({ highWaterMark: WRITE_BUFFER });
    this.pos = position;
  }

  private async ensureOpen(): Promise<number> {
    if (this.handle !== null) return this.handle.fd;
    await mkdir(dirname(this.path), { recursive: true });
    const fh = await open(this.path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o600);
    try {
      if ((await fh.stat()).size < this.size) await fh.truncate(this.size); // sized once: later parts write inside it
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.handle = fh;
    return fh.fd;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    const at = this.pos;
    this.pos += bufs.reduce((n, b) => n + b.length, 0);
    this.ensureOpen()
      .then((fd) => writevAll(fd, bufs, at))
      .then(() => cb(), (err: Error) => cb(err));
  }

  /** Creates the (empty) file without writing: a zero-byte upload still has its staging file. */
  async touch(): Promise<void> {
    await this.ensureOpen();
    await this.closeFd();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.closeFd().then(() => cb(), (err: Error) => cb(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFd().then(() => cb(err), () => cb(err));
  }

  private async closeFd(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}

/** writev at a position until every byte is out (a short write is retried from where it stopped). */
async function writevAll(fd: number, bufs: Buffer[], position: number): Promise<void> {
  let at = position;
  let rest = bufs;
  while (rest.length > 0) {
    const n = await new Promise<number>((resolve, reject) => fsWritev(fd, rest, at, (err, written) => (err ? reject(err) : resolve(written))));
    at += n;
    let skip = n;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        next.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = next;
  }
}

/**
 * Streams one part into its place in the group's staging file. Bytes past `length` are dropped (the
 * source is still read to its end). A source that fails leaves whatever it wrote in place: those
 * bytes belong to no recorded part (a part is recorded only after its bytes and CRC are complete),
 * and complete re-checks every recorded part's CRC-32C, so they can never be served.
 * `hold`: the bytes are kept in memory (at most `length`) and written only when exactly `length`
 * arrived; a body that ran short or long, or broke off, writes nothing (PartWrite.holdUntilComplete).
 */
export async function writePartInPlace(partsRoot: string, group: string, source: Readable, opts: PartWrite, hold = false): Promise<{ name: string; size: number; overLimit: boolean }> {
  const path = join(partDir(partsRoot, group), STAGING_NAME);
  const limit = opts.length;
  const tap = opts.tap;
  const m = byteMeter(limit, (chunk) => tap?.(chunk));
  const meter = m.stream;
  if (source.destroyed) throw Object.assign(new Error('the upload stream was closed before it could be stored'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  const writer = new InPlaceWriter(path, opts.number * opts.partSize, opts.numBytes);
  if (hold) {
    const kept: Buffer[] = [];
    await pipeline(source, meter, new Writable({ write(chunk: Buffer, _enc, cb) { kept.push(chunk); cb(); } }));
    if (m.over || m.size !== limit) return { name: STAGING_NAME, size: m.size, overLimit: m.over };
    await pipeline(Readable.from(kept), writer);
  } else await pipeline(source, meter, writer);
  if (!m.over && m.size === 0 && limit === 0) await writer.touch(); // the one empty part of an empty file
  return { name: STAGING_NAME, size: m.size, overLimit: m.over };
}

type StagingCheck = { path: string; size: number; sha256: string; broken: number[] };

/** The staging file's path, and the parts recorded in another layout (one file per part), which count as broken. */
function stagingOf(partsRoot: string, group: string, parts: PartSpec[]): { path: string; foreign: number[] } {
  return { path: join(partDir(partsRoot, group), STAGING_NAME), foreign: parts.filter((p) => p.name !== STAGING_NAME).map((p) => p.number) };
}

/**
 * checkStagingFile for parts the caller already hashed (`verified`): only the layout is checked
 * (every part in the staging file, the file of the whole size); no byte is read.
 */
export async function checkStagingLayout(partsRoot: string, group: string, parts: PartSpec[], verified: { size: number; sha256: string }): Promise<StagingCheck> {
  const { path, foreign } = stagingOf(partsRoot, group, parts);
  if (foreign.length > 0) return { path, size: 0, sha256: '', broken: foreign };
  const total = parts.reduce((n, p) => n + p.numBytes, 0);
  const size = await stat(path).then((st) => st.size, () => -1);
  if (size !== total || verified.size !== total) return { path, size: 0, sha256: '', broken: parts.map((p) => p.number) };
  return { path, size: total, sha256: verified.sha256, broken: [] };
}

/**
 * Reads the staging file once, in order, through sha256, the tap and a CRC-32C per recorded part,
 * double-buffered (the next 1 MiB is read in the thread pool while this one is hashed). Returns the
 * parts whose bytes no longer match their CRC (all of them when the file is gone or has the wrong
 * size; parts recorded in another layout, one file per part, count as broken too).
 */
export async function checkStagingFile(partsRoot: string, group: string, parts: PartSpec[], opts: StageOptions = {}): Promise<StagingCheck> {
  const { path, foreign } = stagingOf(partsRoot, group, parts);
  if (foreign.length > 0) return { path, size: 0, sha256: '', broken: foreign };
  const total = parts.reduce((n, p) => n + p.numBytes, 0);
  const offThread = total >= OFF_THREAD_MIN_BYTES && parts.some((p) => p.crc32c !== null);
  const check = new PartsChecker(parts, opts.hash !== false, opts.tap, !offThread);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, size: 0, sha256: '', broken: parts.map((p) => p.number) };
    throw err;
  }
  try {
    if ((await fh.stat()).size !== check.total) return { path, size: 0, sha256: '', broken: parts.map((p) => p.number) };
    const crcs = offThread ? partCrcsOffThread(path, parts.map((p) => p.numBytes)) : null;
    crcs?.catch(() => undefined); // awaited after the read below
    const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)] as const;
    let pos = 0;
    let turn = 0;
    let reading = fh.read(buffers[0], 0, READ_CHUNK, 0);
    for (;;) {
      const n = (await reading).bytesRead;
      if (n === 0) break;
      const chunk = buffers[turn]!.subarray(0, n);
      pos += n;
      turn ^= 1;
      reading = fh.read(buffers[turn]!, 0, READ_CHUNK, pos); // into the buffer consumed last round
      check.update(chunk);
    }
    const r = check.result();
    if (crcs && r.broken.length === 0) {
      const values = await crcs;
      r.broken = parts.filter((p, i) => p.crc32c !== null && values[i] !== p.crc32c).map((p) => p.number);
    }
    return { path, ...r };
  } finally {
    await fh.close();
  }
}

export async function deletePartFiles(partsRoot: string, group: string, names?: string[]): Promise<void> {
  const dir = partDir(partsRoot, group);
  if (!names) return rm(dir, { recursive: true, force: true });
  for (const name of names) await rm(join(dir, checkPartName(name)), { force: true });
}

/** Part files by group; with `minAgeMs`, only those whose mtime is at least that old before `now` (a PUT in flight keeps its file fresh). */
export async function listPartFiles(partsRoot: string, minAgeMs: number, now: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const cutoff = now - minAgeMs;
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

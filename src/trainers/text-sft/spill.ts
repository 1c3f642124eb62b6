/**
 * The trainer's scratch copy of a split: the model text and label of every valid example, written
 * once while the datasets are read (dataset.ts) into the attempt's work_dir, then read back by byte
 * range, so training never holds a dataset in memory and never parses JSON twice.
 * Record: u32 text bytes, u32 label bytes, text (UTF-8), label (UTF-8); little-endian.
 * Block index: the records are grouped into blocks of consecutive records (a block closes once it
 * holds BLOCK_BYTES); a block is the unit of shuffling and of reading (stream.ts). At most
 * MAX_BLOCKS blocks are kept: when the index is full, neighbours are merged pairwise and the block
 * size doubles, so the index stays under 1 MiB whatever the file size.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** 64 KiB: ~100 examples of 600 bytes; a window of 128 blocks is 8 MiB of text (stream.ts). */
export const BLOCK_BYTES = 64 * 1024;
/** 65,536 blocks of 16 bytes of index = 1 MiB; at 64 KiB a block that covers 4 GiB of text. */
export const MAX_BLOCKS = 65_536;
const WRITE_BUFFER = 1 << 20;

export interface BlockIndex {
  /** Byte offset of each block in the spill file, plus the file length at the end (nb + 1 entries). */
  offsets: number[];
  /** Index of each block's first record, plus the record count at the end (nb + 1 entries). */
  firstRecord: number[];
  /** The block size the index ended with (BLOCK_BYTES, doubled at each merge). */
  blockBytes: number;
}

export class SpillWriter {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private written = 0;
  private records = 0;
  private readonly index: BlockIndex = { offsets: [0], firstRecord: [0], blockBytes: BLOCK_BYTES };

  /** maxBlocks: MAX_BLOCKS but in tests. */
  constructor(readonly path: string, private readonly maxBlocks = MAX_BLOCKS) {
    this.fd = openSync(path, 'w');
  }

  get count(): number {
    return this.records;
  }

  add(text: string, label: string): void {
    const tl = Buffer.byteLength(text);
    const ll = Buffer.byteLength(label);
    const size = 8 + tl + ll;
    if (this.used + size > this.buf.length) this.flush();
    if (size > this.buf.length) {
      // A record bigger than the buffer (a long example) is written straight through.
      const rec = Buffer.allocUnsafe(size);
      rec.writeUInt32LE(tl, 0);
      rec.writeUInt32LE(ll, 4);
      rec.write(text, 8, 'utf8');
      rec.write(label, 8 + tl, 'utf8');
      this.writeAll(rec, size);
    } else {
      const b = this.buf;
      b.writeUInt32LE(tl, this.used);
      b.writeUInt32LE(ll, this.used + 4);
      b.write(text, this.used + 8, 'utf8');
      b.write(label, this.used + 8 + tl, 'utf8');
      this.used += size;
    }
    this.records++;
    const end = this.written + this.used;
    const ix = this.index;
    if (end - ix.offsets[ix.offsets.length - 1]! >= ix.blockBytes) {
      ix.offsets.push(end);
      ix.firstRecord.push(this.records);
      if (ix.offsets.length > this.maxBlocks) mergePairs(ix);
    }
  }

  /** Flushes and closes; returns the block index (the last, possibly partial, block closed). */
  close(): BlockIndex {
    this.flush();
    closeSync(this.fd);
    const ix = this.index;
    if (ix.firstRecord[ix.firstRecord.length - 1] !== this.records) {
      ix.offsets.push(this.written);
      ix.firstRecord.push(this.records);
    }
    return ix;
  }

  private flush(): void {
    if (this.used > 0) this.writeAll(this.buf, this.used);
    this.used = 0;
  }

  private writeAll(b: Buffer, n: number): void {
    for (let off = 0; off < n; ) off += writeSync(this.fd, b, off, n - off);
    this.written += n;
  }
}

/** Block i+1 is folded into block i for every even i: half the blocks, twice the size. */
function mergePairs(ix: BlockIndex): void {
  const keep = (_: number, i: number) => i % 2 === 0 || i === ix.offsets.length - 1;
  ix.offsets = ix.offsets.filter(keep);
  ix.firstRecord = ix.firstRecord.filter(keep);
  ix.blockBytes *= 2;
}

export interface SpillRecord {
  text: string;
  label: string;
}

/** Reads bytes [from, to) of a spill file and decodes its records in order. */
export function readRecords(path: string, from: number, to: number, onRecord: (r: SpillRecord, i: number) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(to - from);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) throw new Error(`spill file ${path} ends before byte ${to}`);
      got += n;
    }
    decodeRecords(buf, onRecord);
  } finally {
    closeSync(fd);
  }
}

export function decodeRecords(buf: Buffer, onRecord: (r: SpillRecord, i: number) => void): void {
  let i = 0;
  for (let p = 0; p < buf.length; i++) {
    const tl = buf.readUInt32LE(p);
    const ll = buf.readUInt32LE(p + 4);
    const text = buf.toString('utf8', p + 8, p + 8 + tl);
    const label = buf.toString('utf8', p + 8 + tl, p + 8 + tl + ll);
    onRecord({ text, label }, i);
    p += 8 + tl + ll;
  }
}

/** Streams a whole spill file block by block (memory: one block). */
export function forEachRecord(path: string, ix: BlockIndex, onRecord: (r: SpillRecord, i: number) => void): void {
  for (let b = 0; b + 1 < ix.offsets.length; b++) {
    const first = ix.firstRecord[b]!;
    readRecords(path, ix.offsets[b]!, ix.offsets[b + 1]!, (r, k) => onRecord(r, first + k));
  }
}

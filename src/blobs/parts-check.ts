/**
 * The one read of a direct upload's bytes at complete (both backends): every chunk, in file order,
 * goes through sha256 (the file record), the caller's tap (dataset checks) and the CRC-32C of the
 * part it belongs to, which must equal the CRC recorded when that part's PUT finished. A part whose
 * bytes changed after it was recorded (a re-send that broke off midway, two racing PUTs of one
 * part) is reported broken, so complete can tell the client to send it again. With `crcs: false`
 * the caller checks the CRCs some other way (local disk: on a thread of its own, parts-crc.ts) and
 * this read only hashes, taps and counts.
 */
import { createHash, type Hash } from 'node:crypto';
import { Crc32c } from './crc32c.js';
import type { PartSpec } from './blob-store.js';

export class PartsChecker {
  private readonly hash: Hash | null;
  private pi = 0; // index of the part the next byte belongs to
  private left: number; // bytes of that part not yet seen
  private crc = new Crc32c();
  private readonly bad: number[] = [];
  size = 0;

  constructor(private readonly parts: PartSpec[], hash: boolean, private readonly tap?: (chunk: Buffer) => void, private readonly crcs = true) {
    this.hash = hash ? createHash('sha256') : null;
    this.left = parts[0]?.numBytes ?? 0;
    this.skipEmpty();
  }

  /** The bytes all parts must add up to. */
  get total(): number {
    return this.parts.reduce((n, p) => n + p.numBytes, 0);
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.hash?.update(chunk);
    this.tap?.(chunk);
    let off = 0;
    while (off < chunk.length && this.pi < this.parts.length) {
      const take = Math.min(this.left, chunk.length - off);
      if (this.crcs) this.crc.update(take === chunk.length ? chunk : chunk.subarray(off, off + take));
      off += take;
      this.left -= take;
      this.skipEmpty();
    }
  }

  /** sha256 of what was read, and the parts that did not match (all of them when the size is wrong). */
  result(): { size: number; sha256: string; broken: number[] } {
    const broken = this.size === this.total && this.pi >= this.parts.length ? this.bad : this.parts.map((p) => p.number);
    return { size: this.size, sha256: this.hash ? this.hash.digest('hex') : '', broken };
  }

  private skipEmpty(): void {
    while (this.pi < this.parts.length && this.left === 0) {
      const p = this.parts[this.pi]!;
      if (this.crcs && p.crc32c !== null && this.crc.value() !== p.crc32c) this.bad.push(p.number);
      this.pi++;
      this.left = this.parts[this.pi]?.numBytes ?? 0;
      this.crc = new Crc32c();
    }
  }
}

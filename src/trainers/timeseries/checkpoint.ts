/**
 * The checkpoint container: a small JSON header plus raw little-endian tensors.
 *
 *   offset 0   8 bytes   magic "FTNTSCK1" (ftnode time-series checkpoint, format 1)
 *   offset 8   u32 LE    H = byte length of the JSON header
 *   offset 12  H bytes   JSON header (UTF-8): { ...meta, tensors: {name: {dtype, offset, length}} }
 *   then       zero padding to a multiple of 8 bytes (data start)
 *   data       each tensor at data start + offset (offsets 8-byte aligned), `length` elements,
 *              dtype "f32" (IEEE-754 float32), "i32" (int32), little-endian, or "i8" (int8; written
 *              only by header versions 2 and 3, the int8 knn vectors).
 * What the header and tensors mean for a trained model, and its versions, are defined in model.ts;
 * the container itself did not change with versions 2 and 3 (a reader that meets an unknown dtype says so).
 */

import { open } from 'node:fs/promises';

export const MAGIC = 'FTNTSCK1';

export type Tensor = Float32Array | Int32Array | Int8Array;

const BYTES = { f32: 4, i32: 4, i8: 1 } as const;
type Dtype = keyof typeof BYTES;

export interface TensorEntry {
  dtype: Dtype;
  offset: number;
  length: number;
}

export function encodeContainer(meta: Record<string, unknown>, tensors: Record<string, Tensor>): Buffer {
  const entries: Record<string, TensorEntry> = {};
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    entries[name] = { dtype: t instanceof Float32Array ? 'f32' : t instanceof Int8Array ? 'i8' : 'i32', offset: off, length: t.length };
    off += Math.ceil(t.byteLength / 8) * 8;
  }
  const header = Buffer.from(JSON.stringify({ ...meta, tensors: entries }), 'utf8');
  const dataStart = Math.ceil((12 + header.length) / 8) * 8;
  const buf = Buffer.alloc(dataStart + off);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, 12);
  for (const [name, t] of Object.entries(tensors)) {
    const e = entries[name]!;
    // Typed arrays are little-endian on every platform Node supports (x64, arm64).
    Buffer.from(t.buffer, t.byteOffset, t.byteLength).copy(buf, dataStart + e.offset);
  }
  return buf;
}

export interface Container {
  meta: Record<string, unknown>;
  tensors: Record<string, Tensor>;
}

export function decodeContainer(buf: Buffer): Container {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an ftnode time-series checkpoint (bad magic)');
  const h = buf.readUInt32LE(8);
  if (12 + h > buf.length) throw new Error('truncated checkpoint header');
  const meta = JSON.parse(buf.toString('utf8', 12, 12 + h)) as Record<string, unknown> & { tensors?: Record<string, TensorEntry> };
  const dataStart = Math.ceil((12 + h) / 8) * 8;
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(meta.tensors ?? {})) {
    const start = dataStart + e.offset;
    const size = BYTES[e.dtype];
    if (!size) throw new Error(`checkpoint tensor ${name} has dtype ${String(e.dtype)}, which this ftnode does not read`);
    if (start + e.length * size > buf.length) throw new Error(`truncated checkpoint tensor ${name}`);
    // Copy into a fresh, aligned ArrayBuffer: a Buffer's byteOffset need not be a multiple of 4.
    const bytes = new Uint8Array(e.length * size);
    bytes.set(buf.subarray(start, start + e.length * size));
    tensors[name] = e.dtype === 'f32' ? new Float32Array(bytes.buffer) : e.dtype === 'i8' ? new Int8Array(bytes.buffer) : new Int32Array(bytes.buffer);
  }
  delete meta.tensors;
  return { meta, tensors };
}

/** The JSON header only (reads 12 + H bytes, not the tensors): for inference configs and listings. */
export async function readContainerMeta(path: string): Promise<Record<string, unknown>> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString('latin1', 0, 8) !== MAGIC) throw new Error('not an ftnode time-series checkpoint (bad magic)');
    const h = head.readUInt32LE(8);
    const json = Buffer.alloc(h);
    const { bytesRead } = await fh.read(json, 0, h, 12);
    if (bytesRead !== h) throw new Error('truncated checkpoint header');
    const meta = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    delete meta.tensors;
    return meta;
  } finally {
    await fh.close();
  }
}

/**
 * The text-sft checkpoint file (format version 1), little-endian throughout:
 *   offset 0   4 bytes  magic "FTSF"
 *          4   u32      format version (1)
 *          8   u32      H = header length in bytes
 *         12   H bytes  header: UTF-8 JSON (labels, hashing config, step, hyperparameters, seed,
 *                       best eval loss, metrics, row count), space-padded to a multiple of 4
 *   12 + H     f32[k]   bias FTRL state z, then f32[k] n
 *              u32[r]   indices of the rows training touched (n non-zero), ascending
 *              f32[r·k] those rows' FTRL z, row after row, then f32[r·k] their n
 * The weights are not stored: they are a closed-form function of (z, n) and the FTRL parameters in
 * the header (model.ts), recomputed on load with the same Float32 arithmetic, so a loaded checkpoint
 * predicts exactly as the model that wrote it and resumed training continues exactly.
 * Only touched rows are stored: a row stays zero until a training example hashes into it, so the
 * file grows with the features seen, not with dim. sensor-sft (k = 4): 6,178 of 262,144 rows,
 * 223 KB instead of 2 x 4 MiB; L1 leaves ~600 of those 24,712 weights non-zero.
 */
import { HASHING_SCHEME, type HashingConfig } from './features.js';
import { ftrlParams, type Hyperparameters } from './hyperparameters.js';
import { SoftmaxModel } from './model.js';

export const CHECKPOINT_MAGIC = 'FTSF';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointHeader {
  trainer: 'text-sft';
  labels: string[];
  hashing: HashingConfig;
  /** Training steps applied to these weights. */
  step: number;
  hyperparameters: Hyperparameters;
  seed: number;
  /** Lowest eval loss seen so far (the checkpoint rule's memory across a resume); null before any eval. */
  best_eval_loss: number | null;
  metrics: Record<string, number>;
  rows: number;
}

export interface Checkpoint {
  header: CheckpointHeader;
  model: SoftmaxModel;
}

export function encodeCheckpoint(model: SoftmaxModel, meta: Omit<CheckpointHeader, 'rows' | 'labels'>): Buffer {
  const { k } = model;
  const { Z, N, zb, nb } = model.state;
  const rows: number[] = [];
  for (let j = 0; j < model.dim; j++) {
    for (let c = j * k, end = c + k; c < end; c++) {
      if (N[c] !== 0) {
        rows.push(j);
        break;
      }
    }
  }
  const header: CheckpointHeader = { ...meta, labels: model.labels, rows: rows.length };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length % 4 !== 0) json = Buffer.concat([json, Buffer.alloc(4 - (json.length % 4), 0x20)]);
  const size = 12 + json.length + 8 * k + 4 * rows.length + 8 * rows.length * k;
  const buf = Buffer.alloc(size);
  buf.write(CHECKPOINT_MAGIC, 0, 'ascii');
  buf.writeUInt32LE(CHECKPOINT_VERSION, 4);
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, 12);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 12 + json.length;
  for (const m of [zb, nb]) for (let c = 0; c < k; c++, off += 4) view.setFloat32(off, m[c], true);
  for (const j of rows) {
    view.setUint32(off, j, true);
    off += 4;
  }
  for (const m of [Z, N]) for (const j of rows) for (let c = 0; c < k; c++, off += 4) view.setFloat32(off, m[j * k + c], true);
  return buf;
}

export function decodeCheckpoint(buf: Buffer): Checkpoint {
  const fail = (why: string): never => {
    throw new Error(`not a text-sft checkpoint: ${why}`);
  };
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== CHECKPOINT_MAGIC) fail('bad magic');
  const version = buf.readUInt32LE(4);
  if (version !== CHECKPOINT_VERSION) fail(`format version ${version}, this build reads ${CHECKPOINT_VERSION}`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) fail('truncated header');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as CheckpointHeader;
  } catch {
    return fail('header is not JSON');
  }
  const { labels, hashing, rows } = header;
  if (!Array.isArray(labels) || labels.length === 0) fail('no labels');
  if (hashing?.scheme !== HASHING_SCHEME) fail(`hashing scheme ${String(hashing?.scheme)} (this build uses ${HASHING_SCHEME})`);
  const k = labels.length;
  const dim = hashing.dim;
  if (!Number.isInteger(dim) || dim <= 0 || (dim & (dim - 1)) !== 0) fail(`bad dim ${dim}`);
  const expected = 12 + hlen + 8 * k + 4 * rows + 8 * rows * k;
  if (buf.length !== expected) fail(`size ${buf.length} bytes, expected ${expected}`);

  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 12 + hlen;
  const zb = new Float32Array(k);
  const nb = new Float32Array(k);
  for (const m of [zb, nb]) for (let c = 0; c < k; c++, off += 4) m[c] = view.getFloat32(off, true);
  const rowIdx = new Uint32Array(rows);
  for (let r = 0; r < rows; r++, off += 4) {
    rowIdx[r] = view.getUint32(off, true);
    if (rowIdx[r] >= dim) fail(`row ${rowIdx[r]} outside dim ${dim}`);
  }
  const Z = new Float32Array(dim * k);
  const N = new Float32Array(dim * k);
  for (const m of [Z, N]) for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++, off += 4) m[rowIdx[r] * k + c] = view.getFloat32(off, true);
  const params = ftrlParams(header.hyperparameters);
  return { header, model: new SoftmaxModel(dim, labels, params, { Z, N, zb, nb }) };
}

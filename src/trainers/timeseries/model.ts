/**
 * A trained time-series model: everything prediction needs, and its checkpoint encoding.
 * Header fields (JSON, see checkpoint.ts for the container):
 *   format "ftnode-timeseries", version 1, trainer "timeseries", stand_in true, method "head"|"knn",
 *   labels [names, index = class id], reader {window_size, step_size, data_columns, timestamp_column},
 *   encoder {instance_norm, n_channels, window_len, n_features}, head {in_dim, hidden, n_classes,
 *   adam_t[], settings} | knn {n, dim, settings}, epoch, seed, metrics, kernels.
 * Tensors: channel_mean/std [C]; rocket_* (RocketParams arrays); feature_mean/std [F];
 *   head: l<i>_w, l<i>_b and the AdamW moments l<i>_mw, l<i>_vw, l<i>_mb, l<i>_vb (kept so a resumed
 *   run continues exactly where the checkpoint was taken); knn: knn_labels [n] and either
 *   knn_embeddings [n, F] f32 (version 1) or knn_codes [n, F] i8 + knn_scales [n] f32 (version 2),
 *   plus (version 3) knn_basis_codes [P, F] i8 + knn_basis_scales [P] f32 and knn.basis_rows = P.
 * Versions: 1 = every head checkpoint and float32 knn; 2 = int8 knn vectors (39k × 1,008 values are
 * 39 MB instead of 157 MB); 3 = int8 knn vectors with their PCA basis (knn-basis.ts: 258 KB more,
 * the search skips provably far references), what the knn trainer writes now. A head checkpoint is
 * still written as version 1, byte for byte as before; all three load (a version-2 knn is searched
 * in full, as before); any other version is refused with a message naming it.
 * A batch job's few-shot model (few-shot.ts) adds `few_shot {settings, n_channels, window_len,
 * n_classes, n}` and few_shot_* tensors; it is only ever serialized to reach batch threads (never a
 * job's checkpoint), its encoder is an empty MiniRocket and its channel stats are the identity.
 */
import { readFile } from 'node:fs/promises';
import type { HeadSettings, KnnSettings } from './config.js';
import { decodeContainer, encodeContainer, type Tensor } from './checkpoint.js';
import { embedWindows, type EncoderParams, type FeatureStats } from './encoder.js';
import { fewShotFromMeta, fewShotMeta, fewShotProba, type FewShotModel } from './few-shot.js';
import { headProbaBatched, type HeadModel } from './head.js';
import { knnProba, withProjection, type KnnModel } from './knn.js';
import { basisFromCodes } from './knn-basis.js';
import { int8RefsFromCodes, type RocketParams } from './numeric.js';
import type { ChannelStats, WindowSet } from './windows.js';

export const CHECKPOINT_FORMAT = 'ftnode-timeseries';
export const CHECKPOINT_VERSION = 1;
/** The version of a checkpoint holding int8 knn vectors. */
export const CHECKPOINT_VERSION_INT8_KNN = 2;
/** int8 knn vectors and their PCA basis. */
export const CHECKPOINT_VERSION_KNN_BASIS = 3;
export const CHECKPOINT_VERSIONS_READ = [CHECKPOINT_VERSION, CHECKPOINT_VERSION_INT8_KNN, CHECKPOINT_VERSION_KNN_BASIS];

export interface StoredReader {
  windowSize: number;
  stepSize: number;
  dataColumns: string[];
  timestampColumn: string;
}

export interface TsModel {
  method: 'head' | 'knn';
  labels: string[];
  reader: StoredReader;
  channelStats: ChannelStats;
  encoder: EncoderParams & { features: FeatureStats };
  head?: { model: HeadModel; settings: HeadSettings };
  knn?: KnnModel;
  /** A batch job's few-shot classifier (few-shot.ts; never a job's checkpoint: sent to batch threads only). */
  fewShot?: FewShotModel;
  epoch: number;
  seed: number;
  metrics: Record<string, number>;
  kernels: string;
  /**
   * The head's automatic choice (select.ts), header key `selection` (absent when the request fixed
   * the encoder or width, so such checkpoints are byte for byte as before): the winner, every
   * candidate's macro-F1 on the training files' latest block, the rule's margin, window counts.
   */
  selection?: SelectionRecord;
}

export interface SelectionRecord {
  encoder: string;
  hidden_units: number;
  margin: number;
  n_fit_windows: number;
  n_held_windows: number;
  held_out_fraction: number;
  scores: Array<{ encoder: string; hidden_units: number; macro_f1: number; epoch: number }>;
}

const ROCKET_ARRAYS = ['kernelIndex', 'dilation', 'padding', 'channelOffsets', 'channelIndices', 'biasOffsets', 'biases'] as const;

export function serializeModel(m: TsModel): Buffer {
  const t: Record<string, Tensor> = { channel_mean: m.channelStats.mean, channel_std: m.channelStats.std };
  for (const k of ROCKET_ARRAYS) t[`rocket_${k}`] = m.encoder.rocket[k];
  t.feature_mean = m.encoder.features.mean;
  t.feature_std = m.encoder.features.std;
  const meta: Record<string, unknown> = {
    format: CHECKPOINT_FORMAT, version: !m.knn?.q8 ? CHECKPOINT_VERSION : m.knn.basis ? CHECKPOINT_VERSION_KNN_BASIS : CHECKPOINT_VERSION_INT8_KNN, trainer: 'timeseries', stand_in: true, method: m.method,
    labels: m.labels,
    reader: { window_size: m.reader.windowSize, step_size: m.reader.stepSize, data_columns: m.reader.dataColumns, timestamp_column: m.reader.timestampColumn },
    encoder: { instance_norm: m.encoder.instanceNorm, n_channels: m.encoder.rocket.nChannels, window_len: m.encoder.rocket.windowLen, n_features: m.encoder.rocket.nFeatures, ...(m.encoder.windowStats ? { window_stats: true } : {}) },
    epoch: m.epoch, seed: m.seed, metrics: m.metrics, kernels: m.kernels,
    ...(m.selection ? { selection: m.selection } : {}),
  };
  if (m.head) {
    const hm = m.head.model;
    meta.head = { in_dim: hm.inDim, hidden: hm.hidden, n_classes: hm.nClasses, adam_t: hm.layers.map((l) => l.adam.t), settings: m.head.settings };
    hm.layers.forEach((l, i) => Object.assign(t, { [`l${i}_w`]: l.w, [`l${i}_b`]: l.b, [`l${i}_mw`]: l.adam.mW, [`l${i}_vw`]: l.adam.vW, [`l${i}_mb`]: l.adam.mb, [`l${i}_vb`]: l.adam.vb }));
  }
  if (m.knn) {
    meta.knn = { n: m.knn.n, dim: m.knn.dim, settings: m.knn.settings, ...(m.knn.q8 && m.knn.basis ? { basis_rows: m.knn.basis.P } : {}) };
    const q8 = m.knn.q8;
    if (q8) {
      // Stored unpadded [n, F]: the padding to 16 is the kernel's business (int8RefsFromCodes redoes it).
      t.knn_codes = q8.dPad === q8.d ? q8.codes.subarray(0, q8.n * q8.d) : unpad(q8.codes, q8.n, q8.d, q8.dPad);
      t.knn_scales = q8.scale;
      if (m.knn.basis) {
        t.knn_basis_codes = m.knn.basis.codes;
        t.knn_basis_scales = m.knn.basis.scale;
      }
    } else if (m.knn.embeddings) t.knn_embeddings = m.knn.embeddings;
    t.knn_labels = m.knn.labels;
  }
  if (m.fewShot) meta.few_shot = fewShotMeta(m.fewShot, t);
  return encodeContainer(meta, t);
}

function unpad(codes: Int8Array, n: number, d: number, dPad: number): Int8Array {
  const out = new Int8Array(n * d);
  for (let i = 0; i < n; i++) out.set(codes.subarray(i * dPad, i * dPad + d), i * d);
  return out;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function deserializeModel(buf: Buffer): TsModel {
  const { meta, tensors } = decodeContainer(buf);
  const m = meta as any;
  if (m.format !== CHECKPOINT_FORMAT) throw new Error(`unsupported checkpoint format ${m.format} v${m.version}`);
  if (!CHECKPOINT_VERSIONS_READ.includes(m.version)) {
    throw new Error(`unsupported ${CHECKPOINT_FORMAT} checkpoint version ${JSON.stringify(m.version)}: this ftnode reads versions ${CHECKPOINT_VERSIONS_READ.slice(0, -1).join(', ')} and ${CHECKPOINT_VERSIONS_READ.at(-1)}`);
  }
  const f32 = (name: string): Float32Array => {
    const v = tensors[name];
    if (!(v instanceof Float32Array)) throw new Error(`checkpoint lacks f32 tensor ${name}`);
    return v;
  };
  const i32 = (name: string): Int32Array => {
    const v = tensors[name];
    if (!(v instanceof Int32Array)) throw new Error(`checkpoint lacks i32 tensor ${name}`);
    return v;
  };
  const rocket = { nChannels: m.encoder.n_channels, windowLen: m.encoder.window_len, nFeatures: m.encoder.n_features } as RocketParams;
  for (const k of ROCKET_ARRAYS) (rocket as any)[k] = k === 'biases' ? f32(`rocket_${k}`) : i32(`rocket_${k}`);
  const model: TsModel = {
    method: m.method,
    labels: m.labels,
    reader: { windowSize: m.reader.window_size, stepSize: m.reader.step_size, dataColumns: m.reader.data_columns, timestampColumn: m.reader.timestamp_column },
    channelStats: { mean: f32('channel_mean'), std: f32('channel_std') },
    encoder: { instanceNorm: m.encoder.instance_norm, rocket, features: { mean: f32('feature_mean'), std: f32('feature_std') }, ...(m.encoder.window_stats === true ? { windowStats: true } : {}) },
    epoch: m.epoch, seed: m.seed, metrics: m.metrics ?? {}, kernels: m.kernels,
    ...(m.selection ? { selection: m.selection as SelectionRecord } : {}),
  };
  if (m.head) {
    const h = m.head;
    const dims = h.hidden > 0 ? [[h.in_dim, h.hidden], [h.hidden, h.n_classes]] : [[h.in_dim, h.n_classes]];
    const layers = dims.map(([inDim, outDim], i) => ({
      inDim: inDim!, outDim: outDim!, w: f32(`l${i}_w`), b: f32(`l${i}_b`),
      adam: { mW: f32(`l${i}_mw`), vW: f32(`l${i}_vw`), mb: f32(`l${i}_mb`), vb: f32(`l${i}_vb`), t: h.adam_t[i] as number },
    }));
    model.head = { model: { inDim: h.in_dim, hidden: h.hidden, nClasses: h.n_classes, layers }, settings: h.settings };
  }
  if (m.knn) {
    const settings = m.knn.settings as KnnSettings;
    const base = { settings, dim: m.knn.dim, n: m.knn.n, nClasses: model.labels.length, labels: i32('knn_labels') };
    if (m.version === CHECKPOINT_VERSION_INT8_KNN || m.version === CHECKPOINT_VERSION_KNN_BASIS) {
      const codes = tensors.knn_codes;
      if (!(codes instanceof Int8Array) || codes.length !== base.n * base.dim) throw new Error('checkpoint lacks i8 tensor knn_codes');
      model.knn = { ...base, embeddings: null, q8: int8RefsFromCodes(codes, base.n, base.dim, f32('knn_scales')), basis: null };
      if (m.version === CHECKPOINT_VERSION_KNN_BASIS) {
        const P = m.knn.basis_rows as number, bc = tensors.knn_basis_codes;
        if (!Number.isInteger(P) || P < 16 || P % 16 !== 0 || !(bc instanceof Int8Array) || bc.length !== P * base.dim) throw new Error('version-3 checkpoint lacks i8 tensor knn_basis_codes of knn.basis_rows rows');
        model.knn.basis = basisFromCodes(bc, f32('knn_basis_scales'), P, base.dim);
        withProjection(model.knn);
      }
    } else model.knn = { ...base, embeddings: f32('knn_embeddings') };
  }
  if (m.few_shot) model.fewShot = fewShotFromMeta(m.few_shot, tensors);
  return model;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export async function loadModel(path: string): Promise<TsModel> {
  return deserializeModel(await readFile(path));
}

/** Class probabilities [n, K] for windows idx of ws (already channel-normalised with the model's stats). */
export async function predictProba(m: TsModel, ws: WindowSet, idx: ArrayLike<number>, yieldHook?: () => Promise<boolean>): Promise<Float32Array> {
  if (m.fewShot) return fewShotProba(m.fewShot, ws, idx);
  const hook = yieldHook ? async () => yieldHook() : undefined;
  const x = await embedWindows(ws, idx, m.encoder, hook);
  if (!x) throw new Error('embedding aborted');
  const n = idx.length;
  if (m.head) return headProbaBatched(m.head.model, x, n);
  if (m.knn) return knnProba(m.knn, x, n);
  throw new Error('checkpoint has neither a head nor knn vectors');
}

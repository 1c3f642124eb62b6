/**
 * Multinomial logistic regression (softmax) over hashed sparse features: the text-sft model,
 * trained by mini-batch FTRL-Proximal (McMahan et al. 2013, "Ad click prediction: a view from the
 * trenches"), the usual optimizer for sparse hashed logistic regression.
 *
 * Layout: row-per-feature matrices, X[j·k + c] (one feature's k class weights are adjacent, so a
 * sparse example touches nnz contiguous rows). Per coordinate FTRL keeps z (adjusted gradient sum)
 * and n (squared gradient sum); the weight is a closed-form function of them:
 *   w = 0                                                   if |z| <= l1
 *   w = -(z - sign(z)·l1) / ((beta + sqrt(n)) / alpha + l2)  otherwise
 * W is kept in sync for the coordinates a step touches; untouched coordinates do not change at
 * all, so the sparse ("lazy") updates are exact, L1 and L2 included.
 * Why FTRL (L1 + per-coordinate rates), not plain SGD or AdaGrad: an L2-normalised example has
 * ~700 non-zeros of ~0.04 each and the label may hang on 2-3 of them (e.g. the char 4-gram "c: 4"
 * of a temperature in the 40s). Under an L2 penalty, memorising each example through its own
 * template and timestamp n-grams costs less norm than the large weights those few shared n-grams
 * need, and SGD/AdaGrad did exactly that (sensor-sft eval accuracy 0.55-0.73 whatever the lr);
 * L1 makes the shared n-grams the cheap solution (see docs/trainers/text-sft.md for the figures).
 */
import type { SparseVec } from './features.js';

export interface EvalExample {
  x: SparseVec;
  /** Class index of the expected label, or -1 when training never saw that label. */
  y: number;
}

export interface FtrlParams {
  alpha: number;
  /** alpha of the bias, whose input is 1 rather than a feature's ~0.04. */
  alpha_bias: number;
  beta: number;
  l1: number;
  l2: number;
}

/** Optimizer state: what a checkpoint stores; W and b are derived from it. */
export interface FtrlState {
  Z: Float32Array;
  N: Float32Array;
  zb: Float32Array;
  nb: Float32Array;
}

export class SoftmaxModel {
  readonly k: number;
  readonly W: Float32Array;
  readonly b: Float32Array;
  readonly state: FtrlState;
  /** Per-row stamp of the last batch that touched it, and its index in that batch's row list. */
  private rowStamp: Uint32Array | null = null;
  private rowPos: Uint32Array = new Uint32Array(0);
  private stamp = 0;

  constructor(readonly dim: number, readonly labels: string[], readonly params: FtrlParams, state?: FtrlState) {
    const k = (this.k = labels.length);
    this.state = state ?? { Z: new Float32Array(dim * k), N: new Float32Array(dim * k), zb: new Float32Array(k), nb: new Float32Array(k) };
    const { Z, N, zb, nb } = this.state;
    if (Z.length !== dim * k || N.length !== dim * k || zb.length !== k || nb.length !== k) {
      throw new Error('SoftmaxModel: state shapes do not match dim and labels');
    }
    this.W = new Float32Array(dim * k);
    this.b = new Float32Array(k);
    if (state) {
      for (let i = 0; i < Z.length; i++) if (N[i] !== 0) this.W[i] = this.weight(Z[i], N[i], params.alpha, params.l1);
      for (let c = 0; c < k; c++) this.b[c] = this.weight(zb[c], nb[c], params.alpha_bias, 0);
    }
  }

  private weight(z: number, n: number, alpha: number, l1: number): number {
    if (Math.abs(z) <= l1) return 0;
    const { beta, l2 } = this.params;
    return -(z - Math.sign(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
  }

  /** One FTRL update of coordinate i of (Z, N, W) with gradient g. */
  private update(Z: Float32Array, N: Float32Array, W: Float32Array, i: number, g: number, alpha: number, l1: number): void {
    const n = N[i];
    const sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / alpha;
    Z[i] += g - sigma * W[i];
    N[i] = n + g * g;
    W[i] = this.weight(Z[i], N[i], alpha, l1);
  }

  /** Class probabilities for x, written into `out` (length k); returns out. */
  probabilities(x: SparseVec, out: Float64Array = new Float64Array(this.k)): Float64Array {
    const { k, W } = this;
    for (let c = 0; c < k; c++) out[c] = this.b[c];
    for (let i = 0; i < x.idx.length; i++) {
      const row = x.idx[i] * k;
      const v = x.val[i];
      for (let c = 0; c < k; c++) out[c] += v * W[row + c];
    }
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (out[c] > max) max = out[c];
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[c] = Math.exp(out[c] - max);
    for (let c = 0; c < k; c++) out[c] /= sum;
    return out;
  }

  /** One FTRL step on the mean gradient of a mini-batch; returns the batch's mean cross-entropy before it. */
  trainBatch(xs: SparseVec[], ys: number[]): number {
    const { k, W, b } = this;
    const { Z, N, zb, nb } = this.state;
    const n = xs.length;
    // Gradients are taken at the weights before the step: compute every probability first.
    const probs = new Float64Array(n * k);
    let loss = 0;
    for (let e = 0; e < n; e++) {
      const p = this.probabilities(xs[e], probs.subarray(e * k, (e + 1) * k));
      loss -= Math.log(Math.max(p[ys[e]], 1e-12));
      p[ys[e]] -= 1; // now the gradient of this example's loss w.r.t. the logits
    }
    // Sum the batch gradient row by row (a row may be hit by several examples), then update.
    const rows = this.touchedRows(xs);
    const grad = new Float64Array(rows.length * k);
    const gb = new Float64Array(k);
    for (let e = 0; e < n; e++) {
      const p = probs.subarray(e * k, (e + 1) * k);
      for (let c = 0; c < k; c++) gb[c] += p[c] / n;
      const x = xs[e];
      for (let i = 0; i < x.idx.length; i++) {
        const r = this.rowPos[x.idx[i]] * k;
        const v = x.val[i] / n;
        for (let c = 0; c < k; c++) grad[r + c] += v * p[c];
      }
    }
    const { alpha, alpha_bias, l1 } = this.params;
    for (let r = 0; r < rows.length; r++) {
      const base = rows[r] * k;
      for (let c = 0; c < k; c++) this.update(Z, N, W, base + c, grad[r * k + c], alpha, l1);
    }
    for (let c = 0; c < k; c++) this.update(zb, nb, b, c, gb[c], alpha_bias, 0); // no L1 on the bias
    return loss / n;
  }

  /** The distinct rows the batch touches, in first-seen order; rowPos[row] = its index. */
  private touchedRows(xs: SparseVec[]): number[] {
    if (!this.rowStamp) {
      this.rowStamp = new Uint32Array(this.dim);
      this.rowPos = new Uint32Array(this.dim);
    }
    const stamp = (this.stamp = (this.stamp % 0xfffffffe) + 1);
    const rows: number[] = [];
    for (const x of xs) {
      for (let i = 0; i < x.idx.length; i++) {
        const j = x.idx[i];
        if (this.rowStamp[j] === stamp) continue;
        this.rowStamp[j] = stamp;
        this.rowPos[j] = rows.length;
        rows.push(j);
      }
    }
    return rows;
  }

  /** Mean cross-entropy over examples with a known label; accuracy (exact label match) over all. */
  evaluate(examples: EvalExample[]): { loss: number; accuracy: number } {
    const p = new Float64Array(this.k);
    let loss = 0;
    let known = 0;
    let correct = 0;
    for (const ex of examples) {
      this.probabilities(ex.x, p);
      if (argmax(p) === ex.y) correct++;
      if (ex.y >= 0) {
        loss -= Math.log(Math.max(p[ex.y], 1e-12));
        known++;
      }
    }
    return { loss: known > 0 ? loss / known : NaN, accuracy: examples.length > 0 ? correct / examples.length : NaN };
  }

  /** The top-`n` labels with their probabilities, most likely first (ties: label order). */
  topLabels(x: SparseVec, n: number): Array<[string, number]> {
    const p = this.probabilities(x);
    const order = Array.from(p.keys()).sort((a, c) => p[c] - p[a] || a - c);
    return order.slice(0, n).map((c) => [this.labels[c], p[c]]);
  }
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

/**
 * Evaluation metrics computed from predictions: macro-F1 (the number Archetype reports and the
 * checkpoint rule uses), accuracy, and cross-entropy loss from class probabilities.
 * Macro-F1 follows scikit-learn's default: the mean F1 over classes present in y_true or y_pred,
 * so a binary classifier that always answers one class scores 0.333 (docs/spec.md#dataset-formats).
 */

export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, nClasses: number): number {
  const tp = new Float64Array(nClasses);
  const fp = new Float64Array(nClasses);
  const fn = new Float64Array(nClasses);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (t === p) tp[t]++;
    else {
      fp[p]++;
      fn[t]++;
    }
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < nClasses; c++) {
    if (tp[c]! + fp[c]! + fn[c]! === 0) continue;
    present++;
    sum += (2 * tp[c]!) / (2 * tp[c]! + fp[c]! + fn[c]!);
  }
  return present === 0 ? 0 : sum / present;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return yTrue.length === 0 ? 0 : ok / yTrue.length;
}

/** Mean −log p(true class), with p clipped at 1e-7 so one confident mistake cannot give Infinity. */
export function crossEntropy(probs: Float32Array, yTrue: ArrayLike<number>, nClasses: number): number {
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s -= Math.log(Math.max(1e-7, probs[i * nClasses + yTrue[i]!]!));
  return yTrue.length === 0 ? 0 : s / yTrue.length;
}

/** Row-wise argmax of [n, K]. */
export function argmaxRows(p: Float32Array, n: number, K: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/** In-place row-wise softmax of logits [n, K]. */
export function softmaxRows(z: Float32Array, n: number, K: number): Float32Array {
  for (let i = 0; i < n; i++) {
    const row = i * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, z[row + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += z[row + k] = Math.exp(z[row + k]! - m);
    for (let k = 0; k < K; k++) z[row + k] /= s;
  }
  return z;
}

export interface EvalMetrics {
  macro_f1: number;
  accuracy: number;
  loss: number;
}

export function evalMetrics(probs: Float32Array, yTrue: Int32Array, K: number): EvalMetrics {
  const pred = argmaxRows(probs, yTrue.length, K);
  return { macro_f1: macroF1(yTrue, pred, K), accuracy: accuracy(yTrue, pred), loss: crossEntropy(probs, yTrue, K) };
}

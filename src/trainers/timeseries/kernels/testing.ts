/**
 * Helpers for the kernel tests (not a test file itself): a seeded generator for inputs, the
 * tolerance checks shared by the agreement tests, and whether the .wasm has been built.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { defaultWasmPath } from './wasm-memory.js';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** Uniform in [−scale, scale). */
export function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * scale;
  return a;
}

/** Asserts |got − want| ≤ bound(i) elementwise; reports the worst index. */
export function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): void {
  assert.equal(got.length, want.length, `${name}: length`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i]! - want[i]!) - bound(i);
    if (!(excess <= worstExcess) || Number.isNaN(got[i]!)) { worst = i; worstExcess = Number.isNaN(excess) ? Infinity : excess; }
  }
  if (worst >= 0) assert.fail(`${name}[${worst}]: got ${got[worst]}, want ${want[worst]} (bound ${bound(worst)})`);
}

/** Σ_k |a_ik|·|b_jk| for each (i, j): the scale of a float32 dot-product rounding error. */
export function absDots(a: Float32Array, na: number, b: Float32Array, nb: number, d: number): Float64Array {
  const out = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += Math.abs(a[i * d + c]! * b[j * d + c]!);
      out[i * nb + j] = s;
    }
  }
  return out;
}

export const wasmBuilt = existsSync(defaultWasmPath());
export const wasmSkip: string | false = wasmBuilt ? false : 'build/wasm/kernels.wasm is not built (node scripts/build-wasm.mjs)';

/**
 * worker_threads entry of head-pool.ts: owns hidden units [from, to) of the head's first layer (its
 * rows of W and b, their AdamW moments, in this thread's kernel memory) and runs, on command, their
 * share of a training step or of a forward pass. Commands and data go through SharedArrayBuffers
 * (no message per step): the main thread bumps ctrl[SEQ] and notifies; this thread answers by
 * storing the same number in its done slot. Every number it computes is the one the main thread
 * would compute for those units (head-pool.ts says why), so the split changes no float.
 */
import { workerData } from 'node:worker_threads';
import { ADAM_BETAS } from './head.js';
import { getKernels } from './numeric.js';
import { CMD, CTRL, type HeadThreadInit } from './head-pool.js';

const d = workerData as HeadThreadInit;
const k = getKernels();
const u = d.to - d.from;
const F = d.inDim;
const H = d.hidden;
const ctrl = new Int32Array(d.ctrl);
const X = new Float32Array(d.x);
const Hs = new Float32Array(d.h);
const G = new Float32Array(d.g);
const P = { w: new Float32Array(d.w), b: new Float32Array(d.b), mW: new Float32Array(d.mW), vW: new Float32Array(d.vW), mb: new Float32Array(d.mb), vb: new Float32Array(d.vb) };
const own = (src: Float32Array, off: number, len: number): Float32Array => {
  const a = k.alloc(len);
  a.set(src.subarray(off, off + len));
  return a;
};
const w = own(P.w, d.from * F, u * F);
const b = own(P.b, d.from, u);
const adam = { mW: own(P.mW, d.from * F, u * F), vW: own(P.vW, d.from * F, u * F), mb: own(P.mb, d.from, u), vb: own(P.vb, d.from, u), t: d.t };
const x = k.alloc(d.maxBatch * F);
const act = k.alloc(d.maxBatch * u);
const dz = k.alloc(d.maxBatch * u);
const opt = { ...ADAM_BETAS, lr: d.lr, weightDecay: d.weightDecay };

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.seq, seen);
  seen = Atomics.load(ctrl, CTRL.seq);
  const cmd = ctrl[CTRL.cmd]!;
  const n = ctrl[CTRL.n]!;
  if (cmd === CMD.forward) {
    // x stays for the backward that follows a training step's forward.
    x.set(X.subarray(0, n * F));
    k.linearForward(x.subarray(0, n * F), n, F, w, b, u, act.subarray(0, n * u));
    for (let i = 0; i < n; i++) Hs.set(act.subarray(i * u, (i + 1) * u), i * H + d.from);
  } else if (cmd === CMD.backward) {
    for (let i = 0; i < n; i++) dz.set(G.subarray(i * H + d.from, i * H + d.to), i * u);
    adam.t++;
    k.linearBackwardAdamW(x.subarray(0, n * F), dz.subarray(0, n * u), n, F, u, w, b, adam, opt);
  } else if (cmd === CMD.sync) {
    P.w.set(w, d.from * F);
    P.b.set(b, d.from);
    P.mW.set(adam.mW, d.from * F);
    P.vW.set(adam.vW, d.from * F);
    P.mb.set(adam.mb, d.from);
    P.vb.set(adam.vb, d.from);
  }
  Atomics.store(ctrl, CTRL.done + d.index, seen);
  Atomics.notify(ctrl, CTRL.done + d.index);
  if (cmd === CMD.exit) break;
}

/**
 * The head's training steps on every core: the first layer's hidden units are split into contiguous
 * blocks, one per thread (the main thread keeps the first block, head-thread.ts workers the others);
 * each thread holds its rows of W, b and their AdamW moments and computes, for every batch, those
 * units' pre-activations and their AdamW update. The main thread does the rest of the step (ReLU,
 * the output layer, softmax, the gradient into the hidden layer) as headTrainRest always did.
 * Why this gives the same floats as one thread, bit for bit: in the kernels a hidden unit's output
 * is a dot product of its own row of W with the input row, and its weight gradient a sum over the
 * batch of its own column of dz times the input, both accumulated in an order that depends only on
 * the input width; the AdamW update is element-wise. Nothing sums across units in layer 0 (its input
 * gradient is not needed), so who computes which unit changes no number. Blocks start at multiples
 * of 4 (the forward kernel's unit tile), so every unit goes through the same code path as in the
 * whole-layer call. Tested: checkpoints of 1- and 2-thread runs are byte-identical.
 * Per step two synchronisations (after the forward, after the output layer) through Atomics on
 * SharedArrayBuffers; the batch, the pre-activations and dz travel through shared buffers too.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ADAM_BETAS, headProbaBatched, headProbaBatchedWith, headTrainRest, headTrainStep, type FirstLayer, type HeadModel, type HeadWorkspace } from './head.js';
import { getKernels } from './numeric.js';

export const CTRL = { seq: 0, cmd: 1, n: 2, done: 8 } as const;
export const CMD = { forward: 1, backward: 2, sync: 3, exit: 4 } as const;
/** Threads at most (each worker holds its block of W and moments plus one batch). */
const MAX_THREADS = 8;
/** The kernels' unit tile in the forward GEMM (assembly/dense.ts micro2x4). */
const UNIT_TILE = 4;
/**
 * Below ~100k first-layer weights a step costs well under a millisecond (window statistics × 64
 * units: 7.7k weights, ~20 µs), less than the two hand-offs between threads cost; MiniRocket × 64
 * units is 640k weights, ~4 ms a step.
 */
const MIN_WEIGHTS = 100_000;
/** Evaluation rows per forward hand-off: 256 × 9,996 floats = 10 MB of shared batch. */
const EVAL_ROWS = 256;

export interface HeadThreadInit {
  index: number;
  from: number;
  to: number;
  inDim: number;
  hidden: number;
  maxBatch: number;
  t: number;
  lr: number;
  weightDecay: number;
  ctrl: SharedArrayBuffer;
  x: SharedArrayBuffer;
  h: SharedArrayBuffer;
  g: SharedArrayBuffer;
  w: SharedArrayBuffer;
  b: SharedArrayBuffer;
  mW: SharedArrayBuffer;
  vW: SharedArrayBuffer;
  mb: SharedArrayBuffer;
  vb: SharedArrayBuffer;
}

let defaultThreads = Math.min(MAX_THREADS, availableParallelism());
let minWeights = MIN_WEIGHTS;
let started = 0;

/** Worker threads started by pools in this process (tests check that the pool really ran). */
export function headThreadsStarted(): number {
  return started;
}

/** Threads for head training (benchmarks compare 1 with 2 in one process; tests force small heads). */
export function setHeadThreads(n: number, minFirstLayerWeights = MIN_WEIGHTS): void {
  defaultThreads = Math.max(1, Math.floor(n));
  minWeights = minFirstLayerWeights;
}

const shared = (floats: number): SharedArrayBuffer => new SharedArrayBuffer(4 * Math.max(1, floats));

type AtomicsWithAsync = typeof Atomics & { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } };

export class HeadPool implements FirstLayer {
  private seq = 0;
  private pending = false;
  private failure: Error | null = null;
  private readonly ctrl: Int32Array;
  private readonly X: Float32Array;
  private readonly Hs: Float32Array;
  private readonly G: Float32Array;
  private readonly P: Record<'w' | 'b' | 'mW' | 'vW' | 'mb' | 'vb', Float32Array>;
  private readonly own: number; // units [0, own) stay on the main thread
  private readonly ownAct: Float32Array;
  private readonly ownDz: Float32Array;
  private readonly rowsMax: number;

  /** A pool for this model, or null when one thread does it (too small, one core, no hidden layer). */
  static create(m: HeadModel, maxBatch: number, opt: { lr: number; weightDecay: number }, threads = defaultThreads): HeadPool | null {
    if (threads < 2 || m.hidden < 2 * UNIT_TILE || m.layers.length < 2 || m.inDim * m.hidden < minWeights) return null;
    const per = Math.ceil(m.hidden / threads / UNIT_TILE) * UNIT_TILE;
    const blocks: Array<[number, number]> = [];
    for (let a = 0; a < m.hidden; a += per) blocks.push([a, Math.min(m.hidden, a + per)]);
    return blocks.length < 2 ? null : new HeadPool(m, Math.max(maxBatch, EVAL_ROWS), opt, blocks);
  }

  private readonly workers: Worker[];

  private constructor(private readonly m: HeadModel, maxRows: number, private readonly opt: { lr: number; weightDecay: number }, blocks: Array<[number, number]>) {
    const F = m.inDim;
    const H = m.hidden;
    const L0 = m.layers[0]!;
    this.rowsMax = maxRows;
    const sab = { ctrl: new SharedArrayBuffer(4 * (CTRL.done + blocks.length)), x: shared(maxRows * F), h: shared(maxRows * H), g: shared(maxRows * H), w: shared(H * F), b: shared(H), mW: shared(H * F), vW: shared(H * F), mb: shared(H), vb: shared(H) };
    this.ctrl = new Int32Array(sab.ctrl);
    this.X = new Float32Array(sab.x);
    this.Hs = new Float32Array(sab.h);
    this.G = new Float32Array(sab.g);
    this.P = { w: new Float32Array(sab.w), b: new Float32Array(sab.b), mW: new Float32Array(sab.mW), vW: new Float32Array(sab.vW), mb: new Float32Array(sab.mb), vb: new Float32Array(sab.vb) };
    this.P.w.set(L0.w); this.P.b.set(L0.b);
    this.P.mW.set(L0.adam.mW); this.P.vW.set(L0.adam.vW); this.P.mb.set(L0.adam.mb); this.P.vb.set(L0.adam.vb);
    this.own = blocks[0]![1];
    const k = getKernels();
    this.ownAct = k.alloc(maxRows * this.own);
    this.ownDz = k.alloc(maxRows * this.own);
    this.workers = blocks.slice(1).map(([from, to], i) => {
      const init: HeadThreadInit = { index: i, from, to, inDim: F, hidden: H, maxBatch: maxRows, t: L0.adam.t, lr: this.opt.lr, weightDecay: this.opt.weightDecay, ...sab };
      const w = new Worker(new URL('./head-thread.js', import.meta.url), { workerData: init });
      started++;
      const fail = (err: Error): void => {
        this.failure ??= err;
        Atomics.store(this.ctrl, CTRL.done + i, -1); // releases a waiting main thread
        Atomics.notify(this.ctrl, CTRL.done + i);
      };
      w.once('error', fail);
      w.once('exit', (code) => { if (this.ctrl[CTRL.cmd] !== CMD.exit) fail(new Error(`head training thread ${i + 1} exited (code ${code})`)); });
      return w;
    });
  }

  private async waitAll(): Promise<void> {
    if (!this.pending) return;
    for (let i = 0; i < this.workers.length; i++) {
      for (;;) {
        const v = Atomics.load(this.ctrl, CTRL.done + i);
        if (v === this.seq) break;
        if (v < 0 || this.failure) throw this.failure ?? new Error(`head training thread ${i + 1} failed`);
        const r = (Atomics as AtomicsWithAsync).waitAsync(this.ctrl, CTRL.done + i, v);
        if (r.async) await r.value;
      }
    }
    this.pending = false;
  }

  private async post(cmd: number, n: number): Promise<void> {
    await this.waitAll();
    if (this.failure) throw this.failure;
    this.ctrl[CTRL.cmd] = cmd;
    this.ctrl[CTRL.n] = n;
    this.seq = Atomics.add(this.ctrl, CTRL.seq, 1) + 1;
    Atomics.notify(this.ctrl, CTRL.seq);
    this.pending = true;
  }

  /** Pre-activations [n, hidden] of x [n, inDim] (n ≤ the pool's rows per hand-off, else chunked). */
  async forward(x: Float32Array, n: number, out: Float32Array): Promise<void> {
    const F = this.m.inDim;
    const H = this.m.hidden;
    const L0 = this.m.layers[0]!;
    const k = getKernels();
    for (let from = 0; from < n; from += this.rowsMax) {
      const r = Math.min(this.rowsMax, n - from);
      const xs = x.subarray(from * F, (from + r) * F);
      this.X.set(xs);
      await this.post(CMD.forward, r);
      // The main thread's block meanwhile, with its rows of the model's own W and b.
      k.linearForward(xs, r, F, L0.w.subarray(0, this.own * F), L0.b.subarray(0, this.own), this.own, this.ownAct.subarray(0, r * this.own));
      await this.waitAll();
      const o = out.subarray(from * H, (from + r) * H);
      o.set(this.Hs.subarray(0, r * H));
      for (let i = 0; i < r; i++) o.set(this.ownAct.subarray(i * this.own, (i + 1) * this.own), i * H);
    }
  }

  /** Layer 0's AdamW update: the workers' blocks in the background, the main thread's block now. */
  backward(x: Float32Array, dz: Float32Array, n: number): void {
    const F = this.m.inDim;
    const H = this.m.hidden;
    const L0 = this.m.layers[0]!;
    this.G.set(dz.subarray(0, n * H));
    // waitAll() already ran in forward(): the workers are idle, post synchronously.
    this.ctrl[CTRL.cmd] = CMD.backward;
    this.ctrl[CTRL.n] = n;
    this.seq = Atomics.add(this.ctrl, CTRL.seq, 1) + 1;
    Atomics.notify(this.ctrl, CTRL.seq);
    this.pending = true;
    for (let i = 0; i < n; i++) this.ownDz.set(dz.subarray(i * H, i * H + this.own), i * this.own);
    const a = L0.adam;
    const q = this.own * F;
    const state = { mW: a.mW.subarray(0, q), vW: a.vW.subarray(0, q), mb: a.mb.subarray(0, this.own), vb: a.vb.subarray(0, this.own), t: a.t };
    getKernels().linearBackwardAdamW(x, this.ownDz.subarray(0, n * this.own), n, F, this.own, L0.w.subarray(0, q), L0.b.subarray(0, this.own), state, { ...ADAM_BETAS, lr: this.opt.lr, weightDecay: this.opt.weightDecay });
  }

  /** Copies the workers' rows of W, b and moments into the model (before an evaluation or a checkpoint). */
  async sync(): Promise<void> {
    await this.post(CMD.sync, 0);
    await this.waitAll();
    const F = this.m.inDim;
    const L0 = this.m.layers[0]!;
    const q = this.own * F;
    L0.w.set(this.P.w.subarray(q), q);
    L0.b.set(this.P.b.subarray(this.own), this.own);
    L0.adam.mW.set(this.P.mW.subarray(q), q);
    L0.adam.vW.set(this.P.vW.subarray(q), q);
    L0.adam.mb.set(this.P.mb.subarray(this.own), this.own);
    L0.adam.vb.set(this.P.vb.subarray(this.own), this.own);
  }

  async close(): Promise<void> {
    try {
      await this.post(CMD.exit, 0);
      await this.waitAll();
    } catch {
      // a failed thread has already ended
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** One AdamW step on the first n rows of ws.x, on the pool when there is one (the same floats). */
export async function headStep(pool: HeadPool | null, m: HeadModel, ws: HeadWorkspace, y: ArrayLike<number>, n: number, opt: { lr: number; weightDecay: number }): Promise<number> {
  if (!pool) return headTrainStep(m, ws, y, n, opt);
  await pool.forward(ws.x.subarray(0, n * m.inDim), n, ws.acts[0]!);
  return headTrainRest(m, ws, y, n, opt, pool);
}

/** headProbaBatched, with the first layer on the pool when there is one (the same floats). */
export async function headProbaOn(pool: HeadPool | null, m: HeadModel, x: Float32Array, n: number): Promise<Float32Array> {
  return pool ? headProbaBatchedWith(m, x, n, pool) : headProbaBatched(m, x, n);
}

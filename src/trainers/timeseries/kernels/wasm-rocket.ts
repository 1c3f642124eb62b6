/**
 * The host side of the wasm transform: turns RocketParams into the kernel's group records (sorted by
 * dilation so the shared sums A are rebuilt once per dilation: 15 times per window at L=128 instead
 * of once per group, 1260 times), copies them into scratch, and streams the windows through memory
 * in chunks of at most mem.streamBytes (32 MiB: windows + features of a chunk).
 */
import type { RocketParams } from './api.js';
import { KERNEL_TAPS, outputRange, validateParams } from './rocket-spec.js';
import type { WasmMemory } from './wasm-memory.js';

const GROUP_INTS = 10; // must match GROUP_BYTES / 4 in assembly/rocket.ts

interface Plan {
  groups: Int32Array;
  chans: Int32Array;
  /** Biases plus 4 readable floats: the kernel loads 4 biases per pass. */
  biases: Float32Array;
  pmax: number;
  /** Bytes of per-call work buffers (padded X, G, shared sums A, one convolution). */
  workBytes: number;
}

// Params are treated as immutable once transformed (fitRocket and checkpoint loading create new ones).
const plans = new WeakMap<RocketParams, Plan>();

function buildPlan(p: RocketParams): Plan {
  validateParams(p);
  const nGroups = p.kernelIndex.length;
  const order = Array.from({ length: nGroups }, (_, g) => g).sort((a, b) => p.dilation[a]! - p.dilation[b]! || a - b);
  const groups = new Int32Array(nGroups * GROUP_INTS);
  let pmax = 0;
  order.forEach((g, r) => {
    const d = p.dilation[g]!;
    const [t0, t1] = outputRange(p.windowLen, d, p.padding[g]!);
    const taps = KERNEL_TAPS[p.kernelIndex[g]!]!;
    groups.set([
      d, t0, t1, (taps[0] - 4) * d * 4, (taps[1] - 4) * d * 4, (taps[2] - 4) * d * 4,
      p.channelOffsets[g]!, p.channelOffsets[g + 1]! - p.channelOffsets[g]!,
      p.biasOffsets[g]!, p.biasOffsets[g + 1]! - p.biasOffsets[g]!,
    ], r * GROUP_INTS);
    pmax = Math.max(pmax, 4 * d);
  });
  const biases = new Float32Array(p.nFeatures + 4);
  biases.set(p.biases);
  const L4 = Math.ceil(p.windowLen / 4) * 4;
  const rowG = L4 + 2 * pmax;
  const workBytes = 4 * (2 * p.nChannels * rowG + p.nChannels * L4 + L4 + 4);
  return { groups, chans: Int32Array.from(p.channelIndices), biases, pmax, workBytes };
}

export function wasmRocketTransform(mem: WasmMemory, params: RocketParams, windows: Float32Array, n: number): Float32Array {
  let plan = plans.get(params);
  if (!plan) {
    plan = buildPlan(params);
    plans.set(params, plan);
  }
  const { nChannels: C, windowLen: L, nFeatures: F } = params;
  const stride = C * L;
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (windows.length < n * stride) throw new RangeError(`windows has ${windows.length} values, expected ${n * stride}`);
  const out = new Float32Array(n * F);
  if (n === 0) return out;

  const winPtrResident = mem.residentPtr(windows);
  const perWindow = 4 * (F + (winPtrResident >= 0 ? 0 : stride));
  const chunk = Math.max(1, Math.min(n, Math.floor(mem.streamBytes / perWindow)));
  const s = mem.scratch();
  const groupsPtr = s.reserve(plan.groups.byteLength);
  const chansPtr = s.reserve(plan.chans.byteLength);
  const biasPtr = s.reserve(plan.biases.byteLength);
  const workPtr = s.reserve(plan.workBytes);
  const winPtr = winPtrResident >= 0 ? -1 : s.reserve(chunk * stride * 4);
  const outPtr = s.reserve(chunk * F * 4);
  // All reserved: the views taken below stay valid for the whole call.
  const heapI = mem.heapI32(), heapF = mem.heapF32();
  heapI.set(plan.groups, groupsPtr >> 2);
  heapI.set(plan.chans, chansPtr >> 2);
  heapF.set(plan.biases, biasPtr >> 2);
  const nGroups = plan.groups.length / GROUP_INTS;
  for (let w0 = 0; w0 < n; w0 += chunk) {
    const m = Math.min(chunk, n - w0);
    let src: number;
    if (winPtrResident >= 0) src = winPtrResident + w0 * stride * 4;
    else {
      heapF.set(windows.subarray(w0 * stride, (w0 + m) * stride), winPtr >> 2);
      src = winPtr;
    }
    mem.exports.rocketTransform(src, m, C, L, groupsPtr, nGroups, chansPtr, biasPtr, outPtr, F, workPtr, plan.pmax);
    out.set(heapF.subarray(outPtr >> 2, (outPtr >> 2) + m * F), w0 * F);
  }
  return out;
}

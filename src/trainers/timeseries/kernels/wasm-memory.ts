/**
 * Loads build/wasm/kernels.wasm and owns its linear memory. Layout (bytes):
 *   [0, heapBase)   the module's static data (≈1 KiB)
 *   [heapBase, top) the arena: arrays handed out by alloc(), never freed
 *   [top, …)        per-call scratch: inputs that are not resident are copied here, outputs read back
 * The memory is a *shared* WebAssembly.Memory: growing it never detaches an existing view (a plain
 * memory would detach every Float32Array given out by alloc()), so resident arrays stay valid for
 * the life of the process. A call reserves its scratch first (the memory grows in place, only when
 * the call needs more than it has), then takes its views; cached views are rebuilt after growth.
 * The ceiling is MAX_PAGES (2 GiB, keeps byte offsets < 2³¹), so callers stream large batches
 * through STREAM_BYTES-sized chunks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Must match MAX_PAGES in scripts/build-wasm.mjs (the module declares it as its maximum). */
export const MAX_PAGES = 32768;
const PAGE_BYTES = 65536;
/** Scratch a call aims to stay within when it streams: 32 MiB ≈ 550 windows of 40×128 plus their 9996 features. */
export const STREAM_BYTES = 32 << 20;
/** 64-byte alignment: cache-line aligned rows for the SIMD loads. */
const ALIGN = 64;

export interface WasmExports {
  heapBase(): number;
  rocketTransform(win: number, n: number, nCh: number, L: number, groups: number, nGroups: number, chans: number,
    biases: number, out: number, nFeat: number, work: number, pmax: number): void;
  gemmNT(a: number, na: number, b: number, nb: number, d: number, bias: number, out: number, ldo: number): void;
  denseBackwardAdamW(x: number, dy: number, n: number, d: number, k: number, w: number, b: number,
    mW: number, vW: number, mb: number, vb: number, dx: number, work: number,
    lr: number, beta1: number, beta2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  sqDistances(a: number, na: number, b: number, nb: number, d: number, out: number, ldo: number, work: number): void;
  knnTopKInt8(q: number, nq: number, qScale: number, qNorm2: number, r: number, nr: number, rScale: number, rNorm2: number,
    dPad: number, k: number, euclid: number, outIdx: number, outDist: number, work: number): void;
  knnPrunedInt8(q: number, nq: number, qScale: number, qNorm2: number, qMargin: number, qLo: number, qLoScale: number, qHi: number, qRes: number,
    r: number, nr: number, rScale: number, rNorm2: number, rLo: number, rMeta: number, rHi: number, rRes2: number,
    dPad: number, P: number, L2: number, k: number, euclid: number, seeds: number, mark: number, stamp0: number,
    outIdx: number, outDist: number, work: number): number;
}

/**
 * The slice of the WebAssembly JS API used here. The repo compiles with lib ES2022 and @types/node 20,
 * which declare no WebAssembly namespace, so it is typed locally instead of adding the DOM lib.
 */
interface WasmMemoryObject { readonly buffer: ArrayBufferLike; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemoryObject;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const align = (x: number): number => Math.ceil(x / ALIGN) * ALIGN;

/** build/wasm/kernels.wasm under the first ancestor of this module that holds a package.json. */
export function defaultWasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build', 'wasm', 'kernels.wasm');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the kernels module');
    dir = parent;
  }
}

export class WasmMemory {
  readonly exports: WasmExports;
  private readonly memory: WasmMemoryObject;
  /** Every SharedArrayBuffer this memory has shown: a Float32Array on one of them is resident. */
  private readonly buffers = new WeakSet<object>();
  private top: number;
  private f32: Float32Array;
  private i32: Int32Array;

  /** Scratch a streaming call aims to stay within (STREAM_BYTES unless a test shrinks it). */
  readonly streamBytes: number;

  constructor(path: string = defaultWasmPath(), streamBytes: number = STREAM_BYTES) {
    this.streamBytes = streamBytes;
    const module = new WA.Module(readFileSync(path));
    // 256 pages = 16 MiB to start; calls grow it to what they need.
    this.memory = new WA.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
    const instance = new WA.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as WasmExports;
    this.top = align(this.exports.heapBase());
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.refreshViews();
  }

  /** A zeroed resident array (arena; never freed). */
  alloc(length: number): Float32Array {
    if (!(Number.isInteger(length) && length >= 0)) throw new RangeError(`alloc length must be a non-negative integer, got ${length}`);
    const ptr = this.top;
    this.ensure(ptr + length * 4);
    this.top = align(ptr + length * 4);
    const view = new Float32Array(this.memory.buffer, ptr, length);
    this.buffers.add(view.buffer);
    view.fill(0); // the range may have been scratch before
    return view;
  }

  /** `bytes` zeroed bytes in the arena (never freed), as a byte offset: for int8 knn references. */
  allocBytes(bytes: number): number {
    const ptr = this.top;
    this.ensure(ptr + bytes);
    this.top = align(ptr + bytes);
    new Uint8Array(this.memory.buffer, ptr, bytes).fill(0);
    return ptr;
  }

  /** A view of `length` elements of the memory at byte offset ptr (taken after any growth). */
  view<T extends Int8Array | Int16Array | Int32Array | Float32Array>(ctor: new (b: ArrayBufferLike, o: number, l: number) => T, ptr: number, length: number): T {
    return new ctor(this.memory.buffer, ptr, length);
  }

  /** Byte offset of a resident array, or −1 when it lives outside this memory. */
  residentPtr(a: Float32Array): number {
    return this.buffers.has(a.buffer) ? a.byteOffset : -1;
  }

  /** Starts a call: returns a bump allocator over the scratch above the arena. */
  scratch(): Scratch {
    return new Scratch(this, this.top);
  }

  /** Grows the memory (once) so that [0, end) is addressable, then rebuilds the cached views. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE_BYTES);
    if (have / PAGE_BYTES + pages > MAX_PAGES) {
      throw new RangeError(`wasm kernels need ${end} bytes, over the ${MAX_PAGES * PAGE_BYTES}-byte ceiling`);
    }
    this.memory.grow(pages);
    this.refreshViews();
  }

  /** Float32 view of the whole memory (rebuilt after growth). */
  heapF32(): Float32Array {
    if (this.f32.byteLength !== this.memory.buffer.byteLength) this.refreshViews();
    return this.f32;
  }

  heapI32(): Int32Array {
    if (this.i32.byteLength !== this.memory.buffer.byteLength) this.refreshViews();
    return this.i32;
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.buffers.add(buf);
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
  }
}

/** Bump allocation of one call's scratch. Reserve everything first, then copy (views stay valid). */
export class Scratch {
  constructor(private readonly mem: WasmMemory, private next: number) {}

  /** Reserves `bytes` (64-byte aligned) and returns its byte offset. */
  reserve(bytes: number): number {
    const ptr = this.next;
    this.next = align(ptr + bytes);
    this.mem.ensure(this.next);
    return ptr;
  }

  /** Pointer to `a` (first `length` values): the array itself when resident, else a reserved copy. */
  input(a: Float32Array, length: number): number {
    const p = this.mem.residentPtr(a);
    if (p >= 0) return p;
    const ptr = this.reserve(length * 4);
    this.mem.heapF32().set(a.length === length ? a : a.subarray(0, length), ptr >> 2);
    return ptr;
  }

  /** Pointer where the kernel may write `length` values of `a`: `a` itself when resident. */
  output(a: Float32Array, length: number): number {
    const p = this.mem.residentPtr(a);
    return p >= 0 ? p : this.reserve(length * 4);
  }

  /** Copies `length` values at ptr back into `a` unless `a` is resident (then they are already there). */
  readBack(a: Float32Array, ptr: number, length: number): void {
    if (this.mem.residentPtr(a) >= 0) return;
    a.set(this.mem.heapF32().subarray(ptr >> 2, (ptr >> 2) + length));
  }
}

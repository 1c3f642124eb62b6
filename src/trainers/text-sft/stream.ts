/**
 * The order in which training visits the train examples, read from the spill file (spill.ts) one
 * window at a time, so memory is one window whatever the dataset size.
 * An epoch: the blocks in a seeded order (permutation of the block indices, from (seed, epoch)),
 * cut into windows of `perWindow` consecutive blocks (WINDOW_BYTES of text); each window's train
 * examples (held-out ones skipped) in a seeded order of their own. The epoch's sequence is the
 * windows' sequences one after the other; batch s of the epoch is positions [s·B, s·B + B) of it,
 * so a resumed run finds any step's examples without replaying (windows before it are skipped by
 * their counts, unread).
 * A dataset that fits in one window (<= 8 MiB of text) keeps the block order and uses the epoch's
 * permutation of all its examples: exactly epochOrder(n, seed, epoch), the whole-dataset shuffle;
 * its featurised examples are then kept across epochs (featurising is ~60% of a training visit).
 * Larger datasets featurise each example when its batch is trained.
 */
import type { SparseVec } from './features.js';
import { featurize } from './features.js';
import { epochOrder, mixSeed, permutation } from './prng.js';
import { readRecords, type BlockIndex } from './spill.js';

/** Text read at once: 8 MiB holds ~13,000 examples of 600 bytes (~50 MB featurised when cached). */
export const WINDOW_BYTES = 8 * 1024 * 1024;

export interface StreamSource {
  path: string;
  index: BlockIndex;
  /** Train examples per block (records minus the held-out ones). */
  trainPerBlock: Uint32Array;
  /** True for a record kept out of training (the held-out eval examples). */
  held: (record: number) => boolean;
  classOf: Map<string, number>;
  dim: number;
  seed: number;
}

interface Window {
  epoch: number;
  w: number;
  /** Position of its first example in the epoch's sequence. */
  start: number;
  texts: string[];
  ys: Int32Array;
  order: Uint32Array;
  features: SparseVec[] | null;
}

export class TrainStream {
  readonly n: number;
  private readonly nb: number;
  private readonly perWindow: number;
  private current: Window | null = null;
  private epochPlan: { epoch: number; blocks: Uint32Array; starts: number[] } | null = null;

  constructor(private readonly src: StreamSource) {
    this.nb = src.index.offsets.length - 1;
    this.perWindow = Math.max(1, Math.floor(WINDOW_BYTES / src.index.blockBytes));
    let n = 0;
    for (const c of src.trainPerBlock) n += c;
    this.n = n;
  }

  get singleWindow(): boolean {
    return this.nb <= this.perWindow;
  }

  /** The examples at positions [first, first + count) of epoch `epoch`, featurised, with class ids. */
  batch(epoch: number, first: number, count: number): { xs: SparseVec[]; ys: number[] } {
    const xs: SparseVec[] = [];
    const ys: number[] = [];
    const end = Math.min(first + count, this.n);
    for (let pos = first; pos < end; pos++) {
      const win = this.windowAt(epoch, pos);
      const j = win.order[pos - win.start]!;
      xs.push(win.features ? win.features[j]! : featurize(win.texts[j]!, this.src.dim));
      ys.push(win.ys[j]!);
    }
    return { xs, ys };
  }

  private plan(epoch: number): { blocks: Uint32Array; starts: number[] } {
    if (this.epochPlan?.epoch === epoch) return this.epochPlan;
    const blocks = this.singleWindow ? Uint32Array.from({ length: this.nb }, (_, i) => i) : permutation(this.nb, mixSeed(this.src.seed, 1000 + epoch));
    const starts = [0];
    for (let b = 0; b < this.nb; b += this.perWindow) {
      let c = starts[starts.length - 1]!;
      for (let k = b; k < Math.min(b + this.perWindow, this.nb); k++) c += this.src.trainPerBlock[blocks[k]!]!;
      starts.push(c);
    }
    this.epochPlan = { epoch, blocks, starts };
    return this.epochPlan;
  }

  private windowAt(epoch: number, pos: number): Window {
    const cur = this.current;
    if (cur && cur.epoch === epoch && pos >= cur.start && pos < cur.start + cur.order.length) return cur;
    if (cur && this.singleWindow) {
      // One window for the whole run: same examples, a new epoch's order.
      cur.epoch = epoch;
      cur.order = epochOrder(cur.ys.length, this.src.seed, epoch);
      return cur;
    }
    const { blocks, starts } = this.plan(epoch);
    let w = 0;
    while (starts[w + 1]! <= pos) w++;
    this.current = null; // let the previous window's memory go before reading the next
    this.current = this.load(epoch, w, starts[w]!, blocks.subarray(w * this.perWindow, (w + 1) * this.perWindow));
    return this.current;
  }

  private load(epoch: number, w: number, start: number, blocks: Uint32Array): Window {
    const { index, held, classOf } = this.src;
    const texts: string[] = [];
    const ys: number[] = [];
    for (const b of blocks) {
      const first = index.firstRecord[b]!;
      readRecords(this.src.path, index.offsets[b]!, index.offsets[b + 1]!, (r, k) => {
        if (held(first + k)) return;
        texts.push(r.text);
        ys.push(classOf.get(r.label)!);
      });
    }
    const single = this.singleWindow;
    const order = single ? epochOrder(texts.length, this.src.seed, epoch) : permutation(texts.length, mixSeed(mixSeed(this.src.seed, 1000 + epoch), w + 1));
    const features = single ? texts.map((t) => featurize(t, this.src.dim)) : null;
    return { epoch, w, start, texts: single ? [] : texts, ys: Int32Array.from(ys), order, features };
  }
}

/**
 * Text -> sparse feature vector for the text-sft trainer (the "hashing trick").
 * Features of the lower-cased, whitespace-collapsed text: word unigrams and bigrams, and character
 * 3-grams and 4-grams (over the text padded with one space each side). Each feature is hashed with
 * FNV-1a (32-bit, salted per feature kind) then mixed with murmur3's fmix32; the low bits pick the
 * bucket, bit 31 the sign (signed hashing: collisions cancel out on average instead of adding up).
 * Per bucket the signed count c becomes sign(c)·(1 + ln|c|) (log-scaled TF), and the vector is
 * L2-normalised, so |x| = 1 whatever the text length.
 * Changing anything here changes every trained model: bump HASHING_SCHEME (it is stored in checkpoints).
 */

export const HASHING_SCHEME = 'fnv1a32+fmix32/signed/v1';
export const WORD_NGRAMS = [1, 2] as const;
export const CHAR_NGRAMS = [3, 4] as const;

/** The hashing configuration stored in a checkpoint; predict refuses a scheme it does not know. */
export interface HashingConfig {
  scheme: string;
  dim: number;
  word_ngrams: number[];
  char_ngrams: number[];
  lowercase: boolean;
}

/**
 * Feature space size for k classes. The model keeps three dense Float32 dim·k arrays (weights,
 * FTRL z and n), and we want each under 8 MiB (2^21 floats, 24 MiB in all): dim = 2^21 / k
 * rounded down to a power of two, at most 2^18 = 262,144 buckets and at least 2^12 = 4,096.
 *   k <= 8 -> 2^18 (k = 4: 4 MiB each);  k = 16 -> 2^17 (8 MiB);  k = 50 -> 2^15 (6.25 MiB);
 *   k > 512 -> 2^12 (an array passes 8 MiB only past 512 classes; train.ts caps k at 1,024).
 * Checkpoints store only the rows training touched, so they are far smaller (see checkpoint.ts).
 */
export function hashDimFor(k: number): number {
  const raw = 2 ** Math.floor(Math.log2((2 ** 21) / Math.max(1, k)));
  return Math.min(2 ** 18, Math.max(2 ** 12, raw));
}

export function hashingConfig(dim: number): HashingConfig {
  return { scheme: HASHING_SCHEME, dim, word_ngrams: [...WORD_NGRAMS], char_ngrams: [...CHAR_NGRAMS], lowercase: true };
}

export interface SparseVec {
  idx: Uint32Array;
  val: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Salts keep a word "abc" and a char 3-gram "abc" in different buckets.
const SALT_WORD = 0x57a1;
const SALT_BIGRAM = 0xb16a;
const SALT_CHAR3 = 0xc3a3;
const SALT_CHAR4 = 0xc4a4;

function fnv(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Scratch accumulator, one per dim, reused across calls (featurising is single-threaded). */
let scratch: Float64Array | null = null;
let touched: Uint32Array = new Uint32Array(4096);

// Words: runs of letters/digits/underscores, with decimal parts kept ("45.2" is one word).
const WORD_RE = /[\p{L}\p{N}_]+(?:\.\p{N}+)*/gu;

export function normaliseText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

export function featurize(text: string, dim: number): SparseVec {
  if (!scratch || scratch.length !== dim) scratch = new Float64Array(dim);
  const acc = scratch;
  const mask = dim - 1;
  let nTouched = 0;
  const add = (h: number) => {
    const x = fmix32(h);
    const b = x & mask;
    if (acc[b] === 0) {
      if (nTouched === touched.length) {
        const grown = new Uint32Array(touched.length * 2);
        grown.set(touched);
        touched = grown;
      }
      touched[nTouched++] = b;
    }
    acc[b] += x >>> 31 ? -1 : 1;
  };

  const t = normaliseText(text);
  const words = t.match(WORD_RE) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    add(fnv(FNV_OFFSET ^ SALT_WORD, w, 0, w.length));
    if (i + 1 < words.length) {
      const h = Math.imul(fnv(FNV_OFFSET ^ SALT_BIGRAM, w, 0, w.length) ^ 0x20, FNV_PRIME);
      add(fnv(h, words[i + 1], 0, words[i + 1].length));
    }
  }
  const p = ` ${t} `;
  for (let i = 0; i + 3 <= p.length; i++) add(fnv(FNV_OFFSET ^ SALT_CHAR3, p, i, i + 3));
  for (let i = 0; i + 4 <= p.length; i++) add(fnv(FNV_OFFSET ^ SALT_CHAR4, p, i, i + 4));

  // Buckets whose signed counts cancelled to 0 were touched but carry nothing: drop them.
  const idx: number[] = [];
  const val: number[] = [];
  let norm = 0;
  for (let i = 0; i < nTouched; i++) {
    const b = touched[i];
    const c = acc[b];
    acc[b] = 0;
    if (c === 0) continue;
    const v = Math.sign(c) * (1 + Math.log(Math.abs(c)));
    idx.push(b);
    val.push(v);
    norm += v * v;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const out: SparseVec = { idx: Uint32Array.from(idx), val: new Float32Array(val.length) };
  for (let i = 0; i < val.length; i++) out.val[i] = val[i] * inv;
  return out;
}

/**
 * getKernels(): the wasm kernels when build/wasm/kernels.wasm loads and FTNODE_KERNELS is not
 * 'reference', else the reference kernels (why is written to stderr once per process).
 * One wasm instance per process: its memory holds every alloc()'d array.
 */
import type { Kernels } from './api.js';
import { referenceKernels } from './reference.js';
import { createWasmKernels } from './wasm.js';

export type { AdamOptions, AdamState, Kernels, RocketParams } from './api.js';
export { fitRocket, type FitRocketOptions } from './rocket-fit.js';
export { referenceKernels } from './reference.js';
export { int8RefsFromCodes, padDim, quantizeQueries, quantizeRows } from './knn-int8.js';
export type { Int8Refs, Int16Queries, TopK } from './knn-int8.js';
export { projectQueries, projectRefs } from './knn-pruned.js';
export type { ProjectedQueries, ProjectedRefs, PrunedTopK } from './knn-pruned.js';

let wasmOrFallback: Kernels | undefined;

/**
 * `choice` defaults to process.env.FTNODE_KERNELS: 'reference' forces the reference kernels, anything
 * else (or unset) asks for wasm. Pass it explicitly where the config layer owns the environment.
 */
export function getKernels(choice: string | undefined = process.env['FTNODE_KERNELS']): Kernels {
  if (choice === 'reference') return referenceKernels;
  if (!wasmOrFallback) {
    try {
      wasmOrFallback = createWasmKernels();
    } catch (err) {
      process.stderr.write(`ftnode: wasm kernels unavailable (${(err as Error).message}); using the reference kernels (30-60× slower; run \`npm run build:wasm\`)\n`);
      wasmOrFallback = referenceKernels;
    }
  }
  return wasmOrFallback;
}

/**
 * The one place this trainer imports numeric kernels from (kernels/ is another engineer's folder):
 * getKernels() (wasm SIMD when built, else the plain TypeScript reference; FTNODE_KERNELS=reference
 * forces the latter) and the MiniRocket fit. Kernels are process-wide: alloc()'d memory is never freed.
 */
export { fitRocket, getKernels, int8RefsFromCodes, projectQueries, projectRefs, quantizeQueries, quantizeRows } from './kernels/index.js';
export type { Kernels, RocketParams, AdamState, AdamOptions, Int8Refs, ProjectedRefs } from './kernels/index.js';

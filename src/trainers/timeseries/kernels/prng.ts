/**
 * The transform fit's generator: sfc32 seeded through splitmix32 (src/lib/prng.ts, where every
 * generator of the project lives), under the names the kernels use.
 */
export { sfc32 as createRng, type Sfc32 as Rng } from '../../../lib/prng.js';

// Entry point of build/wasm/kernels.wasm: re-exports the SIMD kernels and tells the host where
// free memory starts. The module imports a shared memory (env.memory) and never allocates: the host
// (src/trainers/timeseries/kernels/wasm-memory.ts) owns every byte above heapBase().
export { rocketTransform } from "./rocket";
export { gemmNT } from "./dense";
export { denseBackwardAdamW } from "./dense-backward";
export { sqDistances } from "./distance";
export { knnTopKInt8 } from "./knn-int8";
export { knnPrunedInt8 } from "./knn-pruned";

/** First byte the host may use (end of the static data; 16-byte aligned by the host). */
export function heapBase(): usize {
  return __heap_base;
}

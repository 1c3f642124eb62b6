// Builds build/wasm/kernels.wasm from assembly/ with the AssemblyScript compiler (a devDependency):
// WebAssembly SIMD, -O3, the stub runtime (the kernels never allocate), and an imported *shared*
// memory so that growing it never detaches the Float32Array views the host has handed out
// (src/trainers/timeseries/kernels/wasm-memory.ts). Nothing is downloaded. Without assemblyscript
// (a production install without devDependencies) it warns and exits 0: the service then runs the
// plain TypeScript reference kernels.
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'build', 'wasm', 'kernels.wasm');
// 32768 pages = 2 GiB: the ceiling the host may grow to; keeps every byte offset below 2³¹ so it
// passes through i32 parameters unchanged. Must match MAX_PAGES in wasm-memory.ts.
const MAX_PAGES = 32768;

let asc;
try {
  asc = (await import('assemblyscript/asc')).default;
} catch {
  console.warn('build-wasm: assemblyscript is not installed; skipping (the reference kernels will be used)');
  process.exit(0);
}

mkdirSync(dirname(outFile), { recursive: true });
const args = [
  join(root, 'assembly', 'index.ts'),
  '--outFile', outFile,
  '-O3', '--noAssert', '--converge',
  '--runtime', 'stub',
  '--enable', 'simd,threads',
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', String(MAX_PAGES),
];
const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) {
  console.error(`build-wasm: ${error.message}`);
  process.exit(1);
}
if (!existsSync(outFile)) {
  console.error(`build-wasm: ${outFile} was not written`);
  process.exit(1);
}
console.log(`build-wasm: wrote ${outFile}`);

/** getKernels chooses wasm unless FTNODE_KERNELS=reference (or the module is missing). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { getKernels } from './index.js';
import { wasmBuilt } from './testing.js';
import { createWasmKernels } from './wasm.js';

it('getKernels honours the choice and returns one instance', () => {
  assert.equal(getKernels('reference').name, 'reference');
  const k = getKernels('wasm');
  assert.equal(k.name, wasmBuilt ? 'wasm' : 'reference');
  assert.equal(getKernels(undefined), k);
});

it('createWasmKernels throws (so getKernels can fall back) when the module is missing', () => {
  assert.throws(() => createWasmKernels({ wasmPath: '/nonexistent/kernels.wasm' }), /ENOENT/);
});

/**
 * CRC-32C (src/blobs/crc32c.ts) against published vectors (RFC 3720 B.4 iSCSI vectors and the
 * "123456789" check value), split at every alignment (the word path reads 4-byte-aligned words),
 * the combination of part CRCs direct uploads use at complete, and the wire form: base64 of the
 * big-endian value, 8 characters; the native addon held equal to the table reference.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { advanceTables, Crc32c, crc32c, crc32cCombine, crc32cFromBase64, crc32cToBase64 } from '../src/blobs/crc32c.js';

test('the native addon agrees with the table reference on random data, splits and Uint8Array views', () => {
  const tables = (b: Uint8Array): number => ~advanceTables(-1, b) >>> 0;
  for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 4095, 100_003, 1 << 20]) {
    const data = randomBytes(n);
    assert.equal(crc32c(data), tables(data), `${n} bytes`);
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // not a Buffer
    assert.equal(new Crc32c().update(view.subarray(0, n >> 1)).update(view.subarray(n >> 1)).value(), tables(data), `${n} bytes in two views`);
  }
});

test('published vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from([...Array(32).keys()])), 0x46dd794e);
  assert.equal(crc32c(Buffer.from([...Array(32).keys()].reverse())), 0x113fdb5c);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('any split and any alignment gives the same value as one pass', () => {
  const data = randomBytes(70_001);
  const whole = crc32c(data);
  for (let offset = 0; offset < 8; offset++) {
    const shifted = Buffer.alloc(data.length + offset);
    data.copy(shifted, offset);
    assert.equal(crc32c(shifted.subarray(offset)), whole, `offset ${offset}`);
  }
  for (const step of [1, 3, 7, 8, 13, 4096, 65_536]) {
    const c = new Crc32c();
    for (let i = 0; i < data.length; i += step) c.update(data.subarray(i, i + step));
    assert.equal(c.value(), whole, `step ${step}`);
  }
});

test('wire form: base64 of the big-endian value, 8 characters, parsed back strictly', () => {
  assert.equal(crc32cToBase64(0xe3069283), '4waSgw==');
  assert.equal(new Crc32c().update(Buffer.from('123456789')).base64(), '4waSgw==');
  assert.equal(crc32cFromBase64('4waSgw=='), 0xe3069283);
  for (const bad of ['4waSgw', '4waSgw=', '4waSgw===', 'AAAAAAAA', '', '4waS gw==']) assert.equal(crc32cFromBase64(bad), null, bad);
});

test('crc32cCombine(crc(A), crc(B), |B|) equals crc(A‖B), for empty, odd and multi-MiB pieces', () => {
  for (const [a, b] of [[0, 0], [1, 0], [0, 1], [5, 7], [1000, 12_345], [3 << 20, 1], [1, (1 << 20) + 3]]) {
    const x = randomBytes(a!);
    const y = randomBytes(b!);
    assert.equal(crc32cCombine(crc32c(x), crc32c(y), y.length), crc32c(Buffer.concat([x, y])), `${a}+${b}`);
  }
  const parts = [randomBytes(4096), randomBytes(1), randomBytes(70_000), randomBytes(0), randomBytes(9)];
  const folded = parts.reduce((acc, p) => crc32cCombine(acc, crc32c(p), p.length), 0);
  assert.equal(folded, crc32c(Buffer.concat(parts)));
});

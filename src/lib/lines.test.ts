/**
 * Tests: forEachLine gives exactly the lines of text.split('\n') (CRLF, BOM, no final newline,
 * multi-byte characters and lines cut by chunk boundaries: chunk sizes of 1-7 bytes cross every
 * boundary), reports lines past maxLineBytes with their full length and goes on after them, and
 * stops when a callback returns false.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachLine } from './lines.js';

const dir = mkdtempSync(join(tmpdir(), 'lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string | Buffer): string => {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, text);
  return p;
};

async function collect(path: string, chunkBytes: number, maxLineBytes = 1 << 20) {
  const lines: Array<[number, string]> = [];
  const tooLong: Array<[number, number]> = [];
  await forEachLine(path, (text, line) => void lines.push([line, text]), { chunkBytes, maxLineBytes, onTooLong: (line, bytes) => void tooLong.push([line, bytes]) });
  return { lines, tooLong };
}

test('the lines of split("\\n") at every chunk size, CR, BOM and multi-byte characters included', async () => {
  const text = '\ufeffhead,é\r\nsecond line ✓ 😀\n\n  \r\nlast without newline ü';
  const expected = text.replace(/^\ufeff/, '').split('\n').map((l, i): [number, string] => [i + 1, l.replace(/\r$/, '')]);
  const path = file(text);
  for (const chunk of [1, 2, 3, 5, 7, 64, 1 << 20]) {
    assert.deepEqual((await collect(path, chunk)).lines, expected, `chunk ${chunk}`);
  }
  // A final newline ends the last line; no empty line follows it.
  assert.deepEqual((await collect(file('a\nb\n'), 2)).lines, [[1, 'a'], [2, 'b']]);
  assert.deepEqual((await collect(file(''), 4)).lines, []);
});

test('a line past maxLineBytes is reported with its length, not decoded, and reading goes on', async () => {
  const long = 'x'.repeat(100);
  const path = file(`ok\n${long}\nafter\n${long}`);
  for (const chunk of [3, 16, 1000]) {
    const r = await collect(path, chunk, 50);
    assert.deepEqual(r.lines, [[1, 'ok'], [3, 'after']], `chunk ${chunk}`);
    assert.deepEqual(r.tooLong, [[2, 100], [4, 100]], `chunk ${chunk}`);
  }
  // Exactly maxLineBytes is still fine.
  assert.deepEqual((await collect(file(`${'y'.repeat(50)}\n`), 7, 50)).lines, [[1, 'y'.repeat(50)]]);
});

test('returning false stops the read', async () => {
  const seen: number[] = [];
  const r = await forEachLine(file('1\n2\n3\n4\n'), (_t, line) => (seen.push(line), line < 2), { maxLineBytes: 10, chunkBytes: 1 });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(r.stopped, true);
});

/**
 * Line-by-line reading of a file in constant memory: one reused read buffer (1 MiB) plus the bytes
 * of at most one unfinished line, never more than `maxLineBytes` (a longer line is skipped to its
 * end and reported to `onTooLong` instead of being decoded). Lines are split on '\n' bytes (never
 * part of a multi-byte UTF-8 sequence, so a character cut by a chunk boundary is decoded whole); a
 * trailing '\r' and a UTF-8 byte-order mark at the start of line 1 are removed. Line numbers are
 * 1-based physical lines, the numbering of `text.split('\n')`. A final line without '\n' counts;
 * the empty string after a final '\n' does not.
 */
import { open } from 'node:fs/promises';

/** Read size: large enough that a syscall costs ~1% of decoding the chunk, small next to any heap. */
export const LINE_CHUNK_BYTES = 1 << 20;

export interface LineReadOptions {
  maxLineBytes: number;
  chunkBytes?: number;
  /** Called for a line longer than maxLineBytes (with its full length); returning false stops the read. */
  onTooLong?: (line: number, bytes: number) => boolean | void;
  /** Awaited after each chunk's lines (lets a caller do async work on what they produced). */
  afterChunk?: () => Promise<void> | void;
}

export interface LineReadResult {
  /** Lines seen (reported or too long). */
  lines: number;
  /** Bytes read from the file. */
  bytes: number;
  /** True when a callback returned false. */
  stopped: boolean;
}

/** Calls onLine(text, lineNumber) for every line; returning false stops the read early. */
export async function forEachLine(path: string, onLine: (text: string, line: number) => boolean | void, opts: LineReadOptions): Promise<LineReadResult> {
  const chunkBytes = opts.chunkBytes ?? LINE_CHUNK_BYTES;
  const max = opts.maxLineBytes;
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(chunkBytes);
  let carry = Buffer.allocUnsafe(0); // the unfinished line's bytes, grown by doubling up to max
  let carryLen = 0;
  let overflow = 0; // > 0: the current line passed max; its length so far
  let line = 0;
  let pos = 0;
  const emit = (src: Buffer, start: number, end: number): boolean => {
    line++;
    if (overflow > 0 || carryLen + (end - start) > max) {
      const total = overflow > 0 ? overflow + (end - start) : carryLen + (end - start);
      overflow = 0;
      carryLen = 0;
      return opts.onTooLong?.(line, total) !== false;
    }
    let text: string;
    if (carryLen > 0) {
      append(src, start, end);
      text = carry.toString('utf8', 0, carryLen);
      carryLen = 0;
    } else text = src.toString('utf8', start, end);
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return onLine(text, line) !== false;
  };
  const append = (src: Buffer, start: number, end: number): void => {
    const need = carryLen + (end - start);
    if (need > carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, carry.length * 2, 4096), max));
      carry.copy(grown, 0, 0, carryLen);
      carry = grown;
    }
    src.copy(carry, carryLen, start, end);
    carryLen = need;
  };
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let start = 0;
      while (start < bytesRead) {
        const nl = buf.indexOf(10, start);
        if (nl === -1 || nl >= bytesRead) {
          // The line goes on in the next chunk: keep its bytes, or only its length once past max.
          if (overflow > 0) overflow += bytesRead - start;
          else if (carryLen + (bytesRead - start) > max) (overflow = carryLen + (bytesRead - start)), (carryLen = 0);
          else append(buf, start, bytesRead);
          break;
        }
        if (!emit(buf, start, nl)) return { lines: line, bytes: pos, stopped: true };
        start = nl + 1;
      }
      await opts.afterChunk?.();
    }
    if ((carryLen > 0 || overflow > 0) && !emit(buf, 0, 0)) return { lines: line, bytes: pos, stopped: true };
    return { lines: line, bytes: pos, stopped: false };
  } finally {
    await fh.close();
  }
}

/**
 * Streaming base64 decoder for POST /v0.5/files/base64 (the part holds base64 text; the decoded
 * bytes are the file). Whitespace (line-wrapped base64) is skipped, the standard and URL-safe
 * alphabets are accepted, padding only at the end. Groups of 4 characters are decoded as they
 * arrive; at most 3 characters are carried between chunks, so memory stays constant.
 * Invalid input does not fail the stream: failing it would stop the multipart parser, which must
 * keep reading the request body so the client can read the 400. Output stops instead, `error`
 * says why, and the caller discards what was staged.
 */
import { Transform, type TransformCallback } from 'node:stream';

const INVALID = /[^A-Za-z0-9+/\-_=\s]/;
const SPACE = /\s/;

export class Base64Decoder extends Transform {
  error: string | null = null;
  private carry = '';
  private padded = false;
  private offset = 0; // encoded characters seen, for error positions

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.error) return cb();
    let s = chunk.toString('latin1');
    const bad = INVALID.exec(s);
    if (bad) return this.fail(`character ${JSON.stringify(bad[0])} at offset ${this.offset + bad.index} is not base64`, cb);
    this.offset += s.length;
    if (SPACE.test(s)) s = s.replace(/\s+/g, '');
    if (s.length === 0) return cb();
    if (this.padded && /[^=]/.test(s)) return this.fail('data after the "=" padding', cb);
    const eq = s.indexOf('=');
    if (eq !== -1) {
      if (/[^=]/.test(s.slice(eq))) return this.fail('data after the "=" padding', cb);
      this.padded = true;
    }
    s = this.carry + s;
    const whole = s.length - (s.length % 4);
    this.carry = s.slice(whole);
    if (whole === 0) return cb();
    cb(null, Buffer.from(s.slice(0, whole), 'base64'));
  }

  override _flush(cb: TransformCallback): void {
    if (this.error) return cb();
    if (this.padded && this.carry !== '') return this.fail('the padded text is not a multiple of 4 characters', cb);
    const rest = this.carry.replace(/=+$/, '');
    if (rest.length % 4 === 1) return this.fail('the text ends with a lone character (truncated base64)', cb);
    cb(null, rest.length > 0 ? Buffer.from(rest, 'base64') : undefined);
  }

  private fail(message: string, cb: TransformCallback): void {
    this.error = message;
    this.carry = '';
    cb();
  }
}

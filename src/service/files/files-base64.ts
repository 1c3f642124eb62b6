/**
 * Streaming base64 decoder for POST /v0.5/files/base64 (the part holds base64 text; the decoded
 * bytes are the file). Whitespace (line-wrapped base64) is skipped, the standard and URL-safe
 * alphabets are accepted. Decoding is strict (RFC 4648 §4): the text is a whole number of 4-character
 * groups, and "=" padding appears only in the last group, as "xx==" or "xxx=" (so "====", "x===" and
 * unpadded text are refused; Node's own decoder would turn them into 0 or a few bytes without a word).
 * Groups of 4 characters are decoded as they
 * arrive; at most 3 characters are carried between chunks, so memory stays constant.
 * Invalid input does not fail the stream: failing it would stop the multipart parser, which must
 * keep reading the request body so the client can read the 400. Output stops instead, `error`
 * says why, and the caller discards what was staged.
 */
import { Transform, type TransformCallback } from 'node:stream';

const INVALID = /[^A-Za-z0-9+/\-_=\s]/;
const SPACE = /\s/;
const LAST_GROUP = /^(?:[^=]{2}==|[^=]{3}=)$/;

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
    if (this.padded) return this.fail('data after the "=" padding', cb);
    s = this.carry + s;
    const whole = s.length - (s.length % 4);
    this.carry = s.slice(whole);
    if (whole === 0) return cb();
    const groups = s.slice(0, whole);
    const eq = groups.indexOf('=');
    if (eq !== -1) {
      if (eq < whole - 2 || !LAST_GROUP.test(groups.slice(whole - 4))) return this.fail(`"=" padding at offset ${this.offset - s.length + eq} is not the end of the last 4-character group ("xx==" or "xxx=")`, cb);
      if (this.carry !== '') return this.fail('data after the "=" padding', cb);
      this.padded = true;
    }
    cb(null, Buffer.from(groups, 'base64'));
  }

  override _flush(cb: TransformCallback): void {
    if (this.error) return cb();
    if (this.carry !== '') return this.fail(`the text is ${this.offset} characters, not a whole number of 4-character groups (unpadded or truncated base64)`, cb);
    cb();
  }

  private fail(message: string, cb: TransformCallback): void {
    this.error = message;
    this.carry = '';
    cb();
  }
}

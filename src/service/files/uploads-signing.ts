/**
 * Signed URLs of ftnode: its own equivalent of S3 presigned URLs, for direct-upload part PUTs
 * (docs/files.md) and presigned batch output GETs (docs/batch.md). A URL carries `expires` (unix
 * seconds) and `sig` = base64url HMAC-SHA256 over `<purpose>\n<field>\n…\n<expires>` under one 256-bit
 * server key. The purpose (`ftnode-part-v1`, `ftnode-output-v1`) keeps one kind of URL from being
 * replayed as another; changing any field or the expiry breaks the MAC; the expiry is checked against
 * the injected clock only after the MAC holds (so a forged expiry reads as tampering, not as expired).
 * The key lives in the data directory (created on first start, mode 0600) so URLs handed out before
 * a restart stay valid after it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Verdict = 'ok' | 'bad_signature' | 'expired';

/**
 * The server root of absolute URLs: `publicUrl` when configured (behind a proxy), else where the
 * client reached us. Trailing slashes and a trailing `/v0.N` are dropped, so an operator who writes
 * the clients' base (`https://ft.example.com/v0.5`) does not get `/v0.5/v0.5/…` URLs.
 */
export function serverRoot(publicUrl: string | null, requestBase: string): string {
  return (publicUrl ?? requestBase).trim().replace(/\/+$/, '').replace(/\/v0\.[0-9]+$/, '').replace(/\/+$/, '');
}

export function loadOrCreateSigningKey(path: string): Buffer {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const hex = readFileSync(path, 'utf8').trim();
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${path} does not hold a 64-hex-digit upload signing key`);
      return Buffer.from(hex, 'hex');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dirname(path), { recursive: true });
    try {
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }); // wx: two first starts never differ
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`could not create the upload signing key at ${path}`);
}

/** HMAC signatures of URL fields under one key (every kind of signed URL uses the same key file). */
export class UrlSigner {
  constructor(private readonly key: Buffer) {}

  sign(purpose: string, fields: readonly string[], expiresSec: number): string {
    return createHmac('sha256', this.key).update(`${[purpose, ...fields].join('\n')}\n${expiresSec}`).digest('base64url');
  }

  /** `expires` and `sig` as they came in the query string (anything but strings is tampering). */
  verify(purpose: string, fields: readonly string[], expires: unknown, sig: unknown, nowMs: number): Verdict {
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof sig !== 'string') return 'bad_signature';
    if (fields.some((f) => f.includes('\n'))) return 'bad_signature'; // a field may not forge the separator
    const want = Buffer.from(this.sign(purpose, fields, Number(expires)));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad_signature';
    return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
  }
}

const PART = 'ftnode-part-v1';

/** Part URLs: (upload id, part number, expires); the message format predates UrlSigner and is unchanged. */
export class PartSigner {
  private readonly urls: UrlSigner;
  constructor(key: Buffer) {
    this.urls = new UrlSigner(key);
  }

  sign(upload_id: string, part: number, expiresSec: number): string {
    return this.urls.sign(PART, [upload_id, String(part)], expiresSec);
  }

  verify(upload_id: string, part: number, expires: unknown, sig: unknown, nowMs: number): Verdict {
    return this.urls.verify(PART, [upload_id, String(part)], expires, sig, nowMs);
  }
}

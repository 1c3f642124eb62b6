/**
 * Signed part URLs of direct uploads: ftnode's own equivalent of S3 presigned URLs. A URL carries
 * `expires` (unix seconds) and `sig` = base64url HMAC-SHA256 over ("ftnode-part-v1", upload id, part
 * number, expires) under a 256-bit server key. Changing any of the three, or moving the signature to
 * another upload, breaks the MAC; the expiry is checked against the injected clock only after the MAC
 * holds (so a forged expiry reads as tampering, not as expired).
 * The key lives in the data directory (created on first start, mode 0600) so URLs handed out before
 * a restart stay valid after it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Verdict = 'ok' | 'bad_signature' | 'expired';

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

export class PartSigner {
  constructor(private readonly key: Buffer) {}

  sign(upload_id: string, part: number, expiresSec: number): string {
    return createHmac('sha256', this.key).update(`ftnode-part-v1\n${upload_id}\n${part}\n${expiresSec}`).digest('base64url');
  }

  verify(upload_id: string, part: number, expires: unknown, sig: unknown, nowMs: number): Verdict {
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof sig !== 'string') return 'bad_signature';
    const want = Buffer.from(this.sign(upload_id, part, Number(expires)));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad_signature';
    return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
  }
}

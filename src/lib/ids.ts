/**
 * Identifier helpers without domain words: random hex, UUIDs, TypeID-style ids (prefix + 26 base32
 * characters, as Archetype's `ckp_…` / `fil_…` ids look) and URL-safe slugs.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export const uuid = (): string => randomUUID();

export function randomHex(chars: number): string {
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** `prefix_` + 26 Crockford base32 characters (130 random bits). */
export function typeId(prefix: string): string {
  const bytes = randomBytes(26);
  let out = '';
  for (let i = 0; i < 26; i++) out += CROCKFORD[bytes[i]! & 31];
  return `${prefix}_${out}`;
}

/** Lower-case slug of [a-z0-9-], collapsed dashes, at most maxLen characters. */
export function slug(text: string, maxLen: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLen)
    .replace(/-+$/g, '');
  return s || 'job';
}

/**
 * Strict query-string parsing for the pagination conventions of each API family. A value that is not
 * an integer (a word, a fraction, a repeated key) is a 400; an integer of any size is accepted and
 * clamped to MAX_PAGE_VALUE (2^31 - 1), which changes no answer: a limit that large already means
 * "every row", an offset that large is past the last row (an empty page). Unclamped, a 20-digit value
 * reached the database as a float and failed there (SQLite "datatype mismatch", PostgreSQL bigint out
 * of range): docs/errors.md.
 */
import { FtError, type ErrorDetail } from '../domain/errors.js';
import { isJobStatus, type JobStatus } from '../domain/status.js';

const INT = /^-?\d+$/;
export const MAX_PAGE_VALUE = 2_147_483_647;

/** An integer string → a number no larger than MAX_PAGE_VALUE (digits past 10 cannot be smaller). */
export function clampedInt(s: string): number {
  const n = Number(s);
  return n > MAX_PAGE_VALUE ? MAX_PAGE_VALUE : n;
}

/** v0.5: `limit` -1 (all, default) or ≥ 1; `offset` ≥ 0. Problems are collected, not thrown one by one. */
export function parseLimitOffset(q: Record<string, unknown>, problems: ErrorDetail[], defaultLimit = -1): { limit: number; offset: number } {
  let limit = defaultLimit;
  let offset = 0;
  if (q.limit !== undefined) {
    const s = String(q.limit);
    if (!INT.test(s) || (Number(s) < 1 && Number(s) !== -1)) problems.push({ code: 'invalid_parameter', message: `limit must be -1 (all) or a positive integer, got '${s}'` });
    else limit = clampedInt(s);
  }
  if (q.offset !== undefined) {
    const s = String(q.offset);
    if (!INT.test(s) || Number(s) < 0) problems.push({ code: 'invalid_parameter', message: `offset must be a non-negative integer, got '${s}'` });
    else offset = clampedInt(s);
  }
  return { limit, offset };
}

export function parseStatuses(raw: unknown, problems: ErrorDetail[]): JobStatus[] | undefined {
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
  const bad = values.filter((v) => !isJobStatus(v) || v === 'UNKNOWN');
  if (bad.length > 0) problems.push({ code: 'invalid_parameter', message: `unknown status value(s): ${bad.join(', ')}` });
  return values.filter(isJobStatus);
}

/** `after`: one job id (a keyset cursor); absent: undefined. */
export function parseAfter(raw: unknown, problems: ErrorDetail[]): string | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) || String(raw) === '') {
    problems.push({ code: 'invalid_parameter', message: 'after must be one job id (the last job of the previous page)' });
    return undefined;
  }
  return String(raw);
}

export function throwIfAny(problems: ErrorDetail[]): void {
  if (problems.length > 0) throw FtError.many(problems);
}

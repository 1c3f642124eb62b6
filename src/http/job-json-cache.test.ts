/** JobJsonCache: reuse by row_version, re-render on a new version, the character bound, rows gone between reads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobViewJson } from '../api/dto.js';
import type { JobView } from '../domain/types.js';
import { JobJsonCache } from './job-json-cache.js';

function view(uuid: string, row_version: number, status = 'COMPLETED'): JobView {
  return {
    name: `job ${uuid}`, id: `ftj-${uuid}`, uuid, org_uuid: 'o', status, created_at: 1_700_000_000_000, updated_at: 1_700_000_000_500,
    inference_config_path: null, config_json: '{"model":"m"}', error_json: null, progress_json: null, row_version,
  };
}

test('a page is rendered once per row_version, in key order, and rows gone before their read are left out', async () => {
  const rows = new Map(['a', 'b', 'c'].map((u) => [u, view(u, 0)]));
  const fetched: string[][] = [];
  const fetch = async (uuids: string[]) => {
    fetched.push(uuids);
    return uuids.flatMap((u) => (rows.has(u) ? [rows.get(u)!] : []));
  };
  const cache = new JobJsonCache();
  const keys = () => ['c', 'a', 'b'].filter((u) => rows.has(u)).map((u) => ({ uuid: u, row_version: rows.get(u)!.row_version }));
  const expected = () => `[${keys().map((k) => jobViewJson(rows.get(k.uuid)!)).join(',')}]`;
  assert.equal(await cache.page(keys(), fetch), expected());
  assert.equal(await cache.page(keys(), fetch), expected());
  assert.deepEqual(fetched, [['c', 'a', 'b']], 'the second page came from the cache');
  rows.set('a', view('a', 1, 'CANCELLED'));
  assert.equal(await cache.page(keys(), fetch), expected());
  assert.deepEqual(fetched.at(-1), ['a'], 'only the changed row is read again');
  assert.match(await cache.page(keys(), fetch), /CANCELLED/);
  // keys read, then before the rows are: c written again (read in its newer version), 'gone' deleted
  const stale = [...keys(), { uuid: 'gone', row_version: 0 }];
  const b = jobViewJson(rows.get('b')!);
  rows.set('c', view('c', 5));
  assert.equal(await cache.page(stale, fetch), `[${jobViewJson(rows.get('c')!)},${jobViewJson(rows.get('a')!)},${b}]`, 'c in its newer version, gone left out');
  assert.equal(await cache.page([], fetch), '[]');
});

test('the cache holds at most its character bound, dropping the oldest entries', async () => {
  const one = jobViewJson(view('u0', 0)).length;
  const cache = new JobJsonCache(one * 3);
  const fetch = async (uuids: string[]) => uuids.map((u) => view(u, 0));
  for (let i = 0; i < 10; i++) await cache.page([{ uuid: `u${i}`, row_version: 0 }], fetch);
  assert.equal(cache.size, 3);
  const before = cache.misses;
  await cache.page([{ uuid: 'u9', row_version: 0 }, { uuid: 'u0', row_version: 0 }], fetch);
  assert.equal(cache.misses - before, 1, 'u9 (newest) kept, u0 (oldest) evicted');
});

/**
 * The API-key lookup cache (src/service/auth-service.ts) on SQLite and, when FTNODE_TEST_PG_URL is
 * set, PostgreSQL: two AuthService instances over one store stand for two replicas. A hit is served
 * without the store, a revoke on one replica is refused there at once and on the other once
 * KEY_CACHE_MS has passed on the (manual) clock, misses are never cached, and the cache is bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../src/lib/clock.js';
import { AuthService, hashApiKey, KEY_CACHE_MS } from '../src/service/auth-service.js';
import type { Store } from '../src/store/store.js';
import { openTestStore } from './helpers/test-store.js';

const PG_URL = process.env.FTNODE_TEST_PG_URL;

const openStore = (dialect: 'sqlite' | 'postgres') => openTestStore(dialect, 'kc');

/** The store with its key lookups counted. */
function counting(store: Store): { store: Store; lookups: () => number } {
  let n = 0;
  const counted = Object.create(store) as Store;
  counted.findApiKeyByHash = (hash: string) => (n++, store.findApiKeyByHash(hash));
  return { store: counted, lookups: () => n };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`API key cache on ${dialect}`, { skip: dialect === 'postgres' && !PG_URL ? 'FTNODE_TEST_PG_URL is not set' : false }, () => {
    test('hits skip the store; a revoke is refused at once here and within KEY_CACHE_MS on another replica', async () => {
      const { store, done } = await openStore(dialect);
      try {
        const clock = new ManualClock();
        const a = counting(store);
        const b = counting(store);
        const here = new AuthService({ store: a.store, clock });
        const there = new AuthService({ store: b.store, clock });
        const { key, record, org } = await here.createKey('acme', 'k');
        const other = await here.createKey('acme', 'other');
        const bearer = `Bearer ${key}`;

        assert.equal((await here.authenticate(bearer))?.key_id, record.id);
        assert.equal((await there.authenticate(bearer))?.org.uuid, org.uuid);
        for (let i = 0; i < 5; i++) assert.equal((await there.authenticate(bearer))?.key_id, record.id);
        assert.equal(b.lookups(), 1, 'cache hits do not reach the store');

        assert.equal(await here.revokeKey(org.uuid, record.id), true);
        assert.equal(await here.authenticate(bearer), null, 'refused at once on the replica that revoked it');
        clock.advance(KEY_CACHE_MS - 1);
        assert.equal((await there.authenticate(bearer))?.key_id, record.id, 'still cached on the other replica');
        clock.advance(1);
        assert.equal(await there.authenticate(bearer), null, 'refused on the other replica once KEY_CACHE_MS has passed');
        assert.equal((await there.authenticate(`Bearer ${other.key}`))?.key_id, other.record.id, 'the org\'s other key still works');

        const wrong = `Bearer sk_${'x'.repeat(40)}`;
        const before = b.lookups();
        assert.equal(await there.authenticate(wrong), null);
        assert.equal(await there.authenticate(wrong), null);
        assert.equal(b.lookups(), before + 2, 'misses are never cached');
      } finally {
        await done();
      }
    });
  });
}

test('the cache is bounded: past 10,000 keys the oldest is forgotten and looked up again', async () => {
  const { store, done } = await openStore('sqlite');
  try {
    const clock = new ManualClock();
    const c = counting(store);
    const auth = new AuthService({ store: c.store, clock });
    const org = await store.ensureOrg('big', clock.now());
    const keys = Array.from({ length: 10_001 }, (_, i) => `sk_${String(i).padStart(40, '0')}`);
    for (const [i, key] of keys.entries()) {
      await store.insertApiKey({ id: `key_${i}`, org_uuid: org.uuid, name: 'bulk', prefix: key.slice(0, 7), created_at: clock.now(), revoked_at: null }, hashApiKey(key));
    }
    for (const key of keys) assert.ok(await auth.authenticate(`Bearer ${key}`));
    assert.equal(c.lookups(), 10_001);
    assert.equal((await auth.authenticate(`Bearer ${keys[10_000]}`))?.key_id, 'key_10000');
    assert.equal(c.lookups(), 10_001, 'the newest key is cached');
    assert.equal((await auth.authenticate(`Bearer ${keys[0]}`))?.key_id, 'key_0');
    assert.equal(c.lookups(), 10_002, 'the oldest was forgotten when the 10,001st came in');
  } finally {
    await done();
  }
});

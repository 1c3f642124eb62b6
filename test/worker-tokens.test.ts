/**
 * The worker token service: the plain token's shape, authentication, revocation, never a user key.
 * What the store does with the records (hashes only, found while active, revoked once, apart from
 * API keys) is a store conformance case on both databases (test/store-conformance/workers.ts), so
 * the service, which only calls the Store interface, runs here on SQLite.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../src/lib/clock.js';
import { AuthService } from '../src/service/auth-service.js';
import { WorkerTokenService } from '../src/service/workers/worker-tokens.js';
import { openTestStore } from './helpers/test-store.js';

describe('worker token service', () => {
  test('create, authenticate, list, revoke; the plain token is never stored', async () => {
    const { store, done } = await openTestStore('sqlite', 'wt');
    try {
      const clock = new ManualClock();
      const tokens = new WorkerTokenService({ store, clock });
      const { token, record } = await tokens.create('gpu-1');
      assert.match(token, /^wk_[A-Za-z0-9]{40}$/);
      assert.match(record.id, /^wkt_[0-9a-f]{8}$/);
      assert.equal((await tokens.authenticate(`Bearer ${token}`))?.id, record.id);
      assert.equal(await tokens.authenticate(`Bearer ${token}x`), null);
      assert.equal(await tokens.authenticate(undefined), null);
      const listed = await tokens.list();
      assert.deepEqual(listed.map((t) => [t.id, t.name, t.prefix, t.revoked_at]), [[record.id, 'gpu-1', token.slice(0, 7), null]]);
      assert.ok(!JSON.stringify(listed).includes(token));
      // A worker token is not an API key, and an API key is not a worker token.
      const auth = new AuthService({ store, clock });
      assert.equal(await auth.authenticate(`Bearer ${token}`), null);
      const { key } = await auth.createKey('org-a');
      assert.equal(await tokens.authenticate(`Bearer ${key}`), null);
      clock.advance(1000);
      assert.equal(await tokens.revoke(record.id), true);
      assert.equal(await tokens.revoke(record.id), false, 'already revoked');
      assert.equal(await tokens.authenticate(`Bearer ${token}`), null, 'revoked: refused at once on this replica');
      assert.equal((await tokens.list())[0]!.revoked_at, clock.now());
    } finally {
      await done();
    }
  });
});

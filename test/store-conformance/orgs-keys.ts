/**
 * Conformance cases: the store's own lifecycle (migrate, close, a second store on the same data),
 * organizations and API keys.
 */
import assert from 'node:assert/strict';
import { T0 } from '../helpers/store-fixtures.js';
import type { Case } from './harness.js';

export const orgKeyCases: Case[] = [
  {
    name: 'migrate twice changes nothing; what one store wrote, another on the same data reads, also after close',
    async run({ s, f, reopen }) {
      const org = await f.org('acme');
      await f.job({ org_uuid: org.uuid, id: 'kept' });
      await s.migrate(); // already migrated: a no-op, data untouched
      assert.equal((await s.getJob(org.uuid, 'kept'))?.id, 'kept');
      const replica = reopen();
      try {
        assert.equal(replica.dialect, s.dialect);
        assert.deepEqual(await replica.getOrg(org.uuid), org);
        await replica.ensureOrg('beta', T0 + 1);
      } finally {
        await replica.close();
      }
      const restarted = reopen();
      try {
        await restarted.migrate();
        assert.equal((await restarted.ensureOrg('beta', T0 + 5)).created_at, T0 + 1, 'written before the close');
        assert.equal((await restarted.getJob(org.uuid, 'kept'))?.id, 'kept');
      } finally {
        await restarted.close();
      }
    },
  },
  {
    name: 'orgs are unique by name and found by uuid',
    async run({ s, f }) {
      const a = await f.org('acme', T0);
      assert.deepEqual(a, { uuid: a.uuid, name: 'acme', created_at: T0 });
      assert.deepEqual(await s.ensureOrg('acme', T0 + 1), a, 'the same org, created_at unchanged');
      const b = await f.org('beta', T0 + 2);
      assert.notEqual(b.uuid, a.uuid);
      assert.deepEqual(await s.getOrg(a.uuid), a);
      assert.equal(await s.getOrg('no-such-org'), null);
    },
  },
  {
    name: 'keys: found by hash with their org until revoked, listed per org in creation order, counted across orgs',
    async run({ s, f }) {
      assert.equal(await s.countApiKeys(), 0);
      const a = await f.org('acme');
      const b = await f.org('beta');
      const k2 = await f.apiKey(a.uuid, { id: 'k2', created_at: T0 + 2 }, 'hash2');
      const k1 = await f.apiKey(a.uuid, { id: 'k1', created_at: T0 + 1 }, 'hash1');
      await f.apiKey(b.uuid, { id: 'kb' }, 'hashb');
      assert.equal(await s.countApiKeys(), 3);
      assert.deepEqual(await s.findApiKeyByHash('hash1'), { ...k1.record, org: a, hash: 'hash1' });
      assert.equal(await s.findApiKeyByHash('hash-unknown'), null);
      assert.deepEqual(await s.listApiKeys(a.uuid), [k1.record, k2.record]);
      assert.equal(await s.revokeApiKey(b.uuid, 'k1', T0 + 3), false, "another org cannot revoke it");
      assert.equal(await s.revokeApiKey(a.uuid, 'k1', T0 + 3), true);
      assert.equal(await s.revokeApiKey(a.uuid, 'k1', T0 + 4), false, 'already revoked');
      assert.equal(await s.revokeApiKey(a.uuid, 'nope', T0 + 4), false);
      assert.equal(await s.findApiKeyByHash('hash1'), null, 'a revoked key no longer authenticates');
      assert.deepEqual((await s.listApiKeys(a.uuid)).map((k) => [k.id, k.revoked_at]), [['k1', T0 + 3], ['k2', null]]);
      assert.equal(await s.countApiKeys(), 3, 'revoked keys still count (the bootstrap key is made only on an empty table)');
      await assert.rejects(f.apiKey(a.uuid, { id: 'k3' }, 'hash2'), 'a hash is unique');
    },
  },
];

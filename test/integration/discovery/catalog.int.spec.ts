import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceReply, InstancesReply, ListServicesReply } from '#contracts/discovery';
import { FleetError } from '#contracts/common';
import { CatalogQueries } from '../../../apps/discovery/src/catalog/catalog.queries.js';
import { eventually } from '../../support/infra.js';
import { DiscoveryHarness, apiInstance } from './support.js';

describe('discovery: catalog over NATS with two replicas', () => {
  const h = new DiscoveryHarness();

  beforeAll(async () => {
    await h.setUp(2);
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('registers an instance with no checks as passing and lists it with counts', async () => {
    const reply = await h.call<InstanceReply>('register', apiInstance('db', { id: 'db-1', tags: ['primary'] }));
    expect(reply.instance).toMatchObject({ id: 'db-1', service: 'db', health: 'passing', source: 'api', nodeId: null });
    expect(reply.index).toBeGreaterThan(0);
    const list = await h.call<ListServicesReply>('list', {});
    expect(list.services).toEqual([
      expect.objectContaining({ name: 'db', instances: 1, counts: { passing: 1, warning: 0, critical: 0 }, tags: ['primary'] }),
    ]);
    expect(list.index).toBeGreaterThanOrEqual(reply.index);
  });

  it('treats an identical re-registration as a no-op that keeps the index', async () => {
    const before = await h.instances('db');
    const again = await h.call<InstanceReply>('register', apiInstance('db', { id: 'db-1', tags: ['primary'] }));
    expect(again.index).toBe(before.index);
    expect(again.instance.modifyIndex).toBe(before.instances[0].modifyIndex);
  });

  it('starts a TTL-checked instance critical, passes it on a TTL report, and emits events', async () => {
    const reg = await h.call<InstanceReply>(
      'register',
      apiInstance('api', { id: 'api-1', checks: [{ type: 'ttl', id: 'beat', ttl: '30s' }] }),
    );
    expect(reg.instance.health).toBe('critical');
    expect(reg.instance.checks[0]).toMatchObject({ id: 'beat', status: 'critical', output: 'not yet checked' });
    const ttl = await h.call<{ index: number; health: string }>('ttl', { instanceId: 'api-1', checkId: 'beat', status: 'passing' });
    expect(ttl.health).toBe('passing');
    expect(ttl.index).toBeGreaterThan(reg.index);
    // A refresh without a state change moves no index.
    const refresh = await h.call<{ index: number }>('ttl', { instanceId: 'api-1', checkId: 'beat', status: 'passing' });
    expect(refresh.index).toBe(ttl.index);
    const events = await eventually(() => (h.eventsFor('api').length >= 2 ? h.eventsFor('api') : undefined));
    expect(events.map((e) => e.changes[0].kind)).toEqual(['registered', 'health']);
    expect(events[1].changes[0]).toMatchObject({ previousHealth: 'critical', instance: { health: 'passing' } });
  });

  it('filters instances by tag, group, passing-only and state', async () => {
    await h.call('register', apiInstance('web', { id: 'web-eu', tags: ['v2', 'Canary'], group: 'eu' }));
    await h.call('register', apiInstance('web', { id: 'web-us', tags: ['v2'], group: 'us', checks: [{ type: 'ttl', ttl: '1m' }] }));
    const ids = (r: InstancesReply) => r.instances.map((i) => i.id);
    expect(ids(await h.instances('web'))).toEqual(['web-eu', 'web-us']);
    expect(ids(await h.instances('web', { tags: ['canary'] }))).toEqual(['web-eu']);
    expect(ids(await h.instances('web', { group: 'us' }))).toEqual(['web-us']);
    expect(ids(await h.instances('web', { passingOnly: true }))).toEqual(['web-eu']);
    expect(ids(await h.instances('web', { states: ['critical'] }))).toEqual(['web-us']);
    const q = await h.call<InstancesReply>('query', { states: ['critical'] });
    expect(ids(q)).toEqual(['web-us']);
  });

  it('answers a blocking query at once when the index moved, and parks it otherwise', async () => {
    const { index } = await h.instances('web');
    const started = Date.now();
    const old = await h.instances('web', { index: index - 1, waitMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(old.index).toBe(index);
    const timedOut = await h.instances('web', { index, waitMs: 300 });
    expect(timedOut.index).toBe(index);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('wakes blocking queries parked on every replica within a second of a change', async () => {
    const { index } = await h.instances('web');
    // Park one query on each replica directly, and one more through NATS (whichever replica takes it).
    const parked = h.replicas.map((r) => r.app.get(CatalogQueries).instances({ service: 'web', index, waitMs: 20_000 }));
    const viaNats = h.instances('web', { index, waitMs: 20_000 }, 25_000);
    await new Promise((r) => setTimeout(r, 100));
    const changedAt = Date.now();
    await h.call('ttl', { instanceId: 'web-us', checkId: 'ttl-1', status: 'passing' });
    const replies = await Promise.all([...parked, viaNats]);
    const took = Date.now() - changedAt;
    expect(took).toBeLessThan(1000);
    for (const r of replies) {
      expect(r.index).toBeGreaterThan(index);
      expect(r.instances.find((i) => i.id === 'web-us')?.health).toBe('passing');
    }
  });

  it('wakes a blocking services list on any change', async () => {
    const { index } = await h.call<ListServicesReply>('list', {});
    const waiting = h.call<ListServicesReply>('list', { index, waitMs: 10_000 }, 15_000);
    await new Promise((r) => setTimeout(r, 100));
    await h.call('register', apiInstance('cache', { id: 'cache-1' }));
    const reply = await waiting;
    expect(reply.index).toBeGreaterThan(index);
    expect(reply.services.map((s) => s.name)).toContain('cache');
  });

  it('deregisters, bumps the service index, and says not_found for unknown ids', async () => {
    const { index } = await h.instances('cache');
    const reply = await h.call<{ index: number }>('deregister', { id: 'cache-1' });
    expect(reply.index).toBeGreaterThan(index);
    const after = await h.instances('cache');
    expect(after.instances).toEqual([]);
    expect(after.index).toBe(reply.index);
    await expect(h.call('deregister', { id: 'cache-1' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.call('get', { id: 'cache-1' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('expires a TTL check that is not refreshed, via the elected replica', async () => {
    await h.call('register', apiInstance('short', { id: 'short-1', checks: [{ type: 'ttl', id: 't', ttl: '300ms' }] }));
    await h.call('ttl', { instanceId: 'short-1', checkId: 't', status: 'passing' });
    expect((await h.instance('short', 'short-1'))?.health).toBe('passing');
    const expired = await eventually(async () => {
      const i = await h.instance('short', 'short-1');
      return i?.health === 'critical' ? i : undefined;
    }, 5000);
    expect(expired.checks[0].output).toMatch(/TTL of 300 ms expired/);
  });

  it('removes an instance critical longer than deregisterCriticalAfter', async () => {
    await h.call('register', apiInstance('doomed', { id: 'doomed-1', checks: [{ type: 'ttl', ttl: '1m', deregisterCriticalAfter: '1s' }] }));
    const started = Date.now();
    await eventually(async () => (await h.instances('doomed')).instances.length === 0, 8000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const rows = await h.sql(`SELECT id FROM discovery.instances WHERE id = 'doomed-1'`);
    expect(rows).toEqual([]);
    expect(h.eventsFor('doomed').at(-1)?.changes[0]).toMatchObject({ kind: 'deregistered', instance: null });
  });

  it('runs the sweeping in exactly one replica', async () => {
    await eventually(() => h.replicas.some((r) => h.runtime(r).isLeader));
    expect(h.replicas.filter((r) => h.runtime(r).isLeader)).toHaveLength(1);
  });

  it('rejects bad input with typed errors and keeps serving', async () => {
    await expect(h.call('register', { name: 'Bad_Name', address: 'x', port: 1 })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.call('register', apiInstance('web', { checks: [{ type: 'http', url: 'http://x' }] as never }))).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(h.instances('web', { waitMs: 10 ** 9 })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.call('ttl', { instanceId: 'db-1', checkId: 'nope', status: 'passing' })).rejects.toMatchObject({ code: 'not_found' });
    const raw = await h.nc.request(h.client.subjects.svc('discovery', 'instances'), new TextEncoder().encode('{nope'));
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const err = await h.call('instances', { service: 'web', nodeSelector: 'a in (b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('validation_failed');
    expect((await h.instances('db')).instances).toHaveLength(1);
  });

  it('keeps a replica that missed events consistent through its resync', async () => {
    // Write behind the replicas' backs, then resync one: the catalog reloads from PostgreSQL.
    await h.sql(`DELETE FROM discovery.instances WHERE id = 'db-1'`);
    await h.sql(`SELECT nextval('discovery.change_index')`);
    await h.runtime(h.replicas[1]).catalog.resync();
    expect(h.runtime(h.replicas[1]).catalog.cache.get('db-1')).toBeUndefined();
  });
});

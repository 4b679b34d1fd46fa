import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError, matchesSelector, parseSelector } from '#contracts/common';
import type { FleetSummary, MatchNodesReply, NodePage, NodeView } from '#contracts/inventory';
import { encodeJson } from '#lib/messaging';
import { eventually } from '../../support/infra.js';
import { InventoryHarness, hello } from './support.js';

const ZONES = ['a', 'b', 'c'];
const TIERS = ['web', 'db', 'cache'];

/** 30 nodes with varied labels, groups, channels and versions. */
function fleet() {
  return Array.from({ length: 30 }, (_, i) => {
    const labels: Record<string, string> = { zone: ZONES[i % 3] };
    if (i % 2 === 0) labels.tier = TIERS[i % 3];
    if (i % 5 === 0) labels.gpu = 'true';
    return hello(`node-${String(i).padStart(2, '0')}`, {
      labels,
      group: i < 10 ? 'canary' : 'main',
      channel: i % 4 === 0 ? 'beta' : 'stable',
      os: { name: 'Fleet Linux', version: i % 3 === 0 ? '2.0.0' : '1.0.0' },
    });
  });
}

async function listAll(h: InventoryHarness, query: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page: NodePage = await h.call('list', { ...query, cursor, limit: 7 });
    ids.push(...page.items.map((n) => n.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

describe('inventory: hello, queries and changes', () => {
  const h = new InventoryHarness({ HEARTBEAT_INTERVAL_SECONDS: '7.5' });
  const nodes = fleet();

  beforeAll(async () => {
    await h.setUp();
    await Promise.all(nodes.map((n) => h.sayHello(n)));
  });
  afterAll(async () => {
    await h.tearDown();
  });

  describe('hello', () => {
    it('registers a new node, returns the heartbeat interval and emits node.registered', async () => {
      await expect(h.sayHello(hello('alpha', { labels: { zone: 'a' } }))).resolves.toEqual({
        nodeId: 'alpha',
        registered: true,
        heartbeatIntervalSeconds: 7.5,
      });
      const node = await h.call<NodeView>('get', { id: 'alpha' });
      expect(node).toMatchObject({
        id: 'alpha',
        hostname: 'alpha.example.net',
        labels: { zone: 'a' },
        group: 'default',
        channel: 'stable',
        arch: 'amd64',
        status: 'online',
        os: { name: 'Fleet Linux', version: '4081.2.0' },
        kernel: '6.6.21',
        runtimes: [{ name: 'containerd', version: '1.7.13' }],
        bootedSlot: 'a',
        agentVersion: '0.1.0',
        health: 'unknown',
        load: null,
      });
      const events = await eventually(async () => {
        const all = await h.events();
        return all.find((e) => e.type === 'inventory.node.registered' && (e.data.node as NodeView).id === 'alpha');
      });
      expect(events.data.node).toMatchObject({ id: 'alpha', labels: { zone: 'a' } });
    });

    it('answers a repeated hello with registered=false and emits node.updated naming the changed facts', async () => {
      const reply = await h.sayHello(hello('alpha', { labels: { zone: 'a' }, bootId: 'boot-2', os: { name: 'Fleet Linux', version: '4100.0.0' } }));
      expect(reply.registered).toBe(false);
      const updated = await eventually(async () =>
        (await h.events()).find((e) => e.type === 'inventory.node.updated' && (e.data.node as NodeView).id === 'alpha'),
      );
      expect(updated.data.changed).toEqual(['os.version', 'bootId']);
      expect((await h.call<NodeView>('get', { id: 'alpha' })).os.version).toBe('4100.0.0');
    });

    it('registers a node exactly once when many hellos for it race', async () => {
      const replies = await Promise.all(Array.from({ length: 20 }, () => h.sayHello(hello('racer'))));
      expect(replies.filter((r) => r.registered)).toHaveLength(1);
      await eventually(async () => {
        const registered = (await h.events()).filter(
          (e) => e.type === 'inventory.node.registered' && (e.data.node as NodeView).id === 'racer',
        );
        return registered.length === 1;
      });
      expect(
        (await h.events()).filter((e) => e.type === 'inventory.node.updated' && (e.data.node as NodeView).id === 'racer'),
      ).toEqual([]);
    });

    it('emits nothing but refreshes last-seen when nothing changed', async () => {
      const before = await h.call<NodeView>('get', { id: 'node-01' });
      const countBefore = (await h.events()).filter((e) => e.type === 'inventory.node.updated').length;
      await h.sayHello(nodes[1]);
      const after = await h.call<NodeView>('get', { id: 'node-01' });
      expect(Date.parse(after.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(before.lastSeenAt));
      expect((await h.events()).filter((e) => e.type === 'inventory.node.updated').length).toBe(countBefore);
    });

    it('rejects a hello whose body names another node than its subject', async () => {
      const err = await h.sayHello(hello('mallory'), 'alpha').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FleetError);
      expect(err).toMatchObject({ code: 'forbidden' });
      await expect(h.call('get', { id: 'mallory' })).rejects.toMatchObject({ code: 'not_found' });
    });

    it('rejects malformed, oversized, unknown-version and invalid-id hellos with typed errors, and keeps serving', async () => {
      const subject = h.client.subjects.agent('bad', 'hello');
      const raw = async (bytes: Uint8Array) => (await h.client.nc.request(subject, bytes, { timeout: 2000 })).json<{ ok: boolean; error?: { code: string } }>();
      expect(await raw(new TextEncoder().encode('{not json'))).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect(await raw(encodeJson({ ...hello('bad'), hostname: 'x'.repeat(40_000) }))).toMatchObject({
        ok: false,
        error: { code: 'payload_too_large' },
      });
      expect(await raw(encodeJson({ ...hello('bad'), v: 2 }))).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
      expect(await raw(encodeJson({ ...hello('bad'), arch: undefined }))).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
      await expect(h.sayHello(hello('bad.id'), 'bad')).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(h.sayHello(hello('ok-after-bad'))).resolves.toMatchObject({ registered: true });
    });
  });

  describe('list', () => {
    it.each([
      'zone=a',
      'zone!=a',
      'zone in (a,b)',
      'tier notin (web,db)',
      'gpu',
      '!tier',
      'zone=b,tier!=db,!gpu',
      'zone in (c),gpu',
    ])('selects exactly the nodes matching "%s"', async (selector) => {
      const expected = nodes.filter((n) => matchesSelector(parseSelector(selector), n.labels ?? {})).map((n) => n.nodeId);
      const got = (await listAll(h, { selector })).filter((id) => id.startsWith('node-'));
      expect(got).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
    });

    it('filters by group, channel, version and status, combined with a selector', async () => {
      const page: NodePage = await h.call('list', { group: 'canary', channel: 'beta', version: '2.0.0', status: 'online', selector: 'zone=a' });
      const expected = nodes
        .filter((n) => n.group === 'canary' && n.channel === 'beta' && n.os?.version === '2.0.0' && n.labels?.zone === 'a')
        .map((n) => n.nodeId);
      expect(page.items.map((n) => n.id)).toEqual(expected);
      expect(page.total).toBe(expected.length);
      expect((await h.call<NodePage>('list', { status: 'offline' })).total).toBe(0);
    });

    it('pages by id with a cursor and reports the total of the whole filter', async () => {
      const first: NodePage = await h.call('list', { selector: 'zone', limit: 4 });
      expect(first.items).toHaveLength(4);
      expect(first.total).toBeGreaterThanOrEqual(30);
      const all = await listAll(h, { selector: 'zone' });
      expect(all).toHaveLength(first.total);
      expect([...all].sort()).toEqual(all);
      expect(new Set(all).size).toBe(all.length);
    });

    it('rejects a bad selector, a bad cursor and a bad limit with validation errors', async () => {
      await expect(h.call('list', { selector: 'zone in (a' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(h.call('list', { cursor: 'nope' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(h.call('list', { limit: 5000 })).rejects.toMatchObject({ code: 'validation_failed' });
    });
  });

  describe('get, update, decommission', () => {
    it('answers not_found for an unknown node', async () => {
      await expect(h.call('get', { id: 'nobody' })).rejects.toMatchObject({ code: 'not_found' });
      await expect(h.call('update', { id: 'nobody', setLabels: { a: 'b' } })).rejects.toMatchObject({ code: 'not_found' });
      await expect(h.call('decommission', { id: 'nobody' })).rejects.toMatchObject({ code: 'not_found' });
    });

    it('sets and removes labels and the group, emits node.updated, and keeps the change across the next hello', async () => {
      const updated = await h.call<NodeView>('update', {
        id: 'node-00',
        setLabels: { rack: 'r1', zone: 'z9' },
        removeLabels: ['gpu'],
        group: 'pinned',
      });
      expect(updated.labels).toEqual({ zone: 'z9', tier: 'web', rack: 'r1' });
      expect(updated.group).toBe('pinned');
      const event = await eventually(async () =>
        (await h.events()).find((e) => e.type === 'inventory.node.updated' && (e.data.node as NodeView).id === 'node-00'),
      );
      expect(event.data.changed).toEqual(['labels', 'group']);

      // The agent re-sends its own config: operator changes win, new agent labels still arrive.
      await h.sayHello({ ...nodes[0], labels: { ...nodes[0].labels, os: 'flatcar' } });
      const after = await h.call<NodeView>('get', { id: 'node-00' });
      expect(after.labels).toEqual({ zone: 'z9', tier: 'web', rack: 'r1', os: 'flatcar' });
      expect(after.group).toBe('pinned');
    });

    it('rejects a label both set and removed, and an invalid label', async () => {
      await expect(h.call('update', { id: 'node-01', setLabels: { a: '1' }, removeLabels: ['a'] })).rejects.toMatchObject({
        code: 'validation_failed',
      });
      await expect(h.call('update', { id: 'node-01', setLabels: { 'bad key!': '1' } })).rejects.toMatchObject({ code: 'validation_failed' });
    });

    it('decommissions a node and emits node.decommissioned', async () => {
      await h.sayHello(hello('doomed'));
      await expect(h.call('decommission', { id: 'doomed' })).resolves.toEqual({ id: 'doomed', decommissioned: true });
      await expect(h.call('get', { id: 'doomed' })).rejects.toMatchObject({ code: 'not_found' });
      await eventually(async () =>
        (await h.events()).some((e) => e.type === 'inventory.node.decommissioned' && e.data.nodeId === 'doomed'),
      );
    });
  });

  describe('summary and match', () => {
    it('counts nodes by status, health, OS version, channel and group', async () => {
      const summary = await h.call<FleetSummary>('summary', {});
      const page = await h.call<NodePage>('list', { limit: 1 });
      expect(summary.total).toBe(page.total);
      expect(summary.byStatus).toEqual({ online: page.total, offline: 0 });
      expect(summary.byHealth).toEqual({ unknown: page.total });
      expect(summary.byGroup.canary).toBe(9); // node-00 was moved to 'pinned' above
      expect(summary.byGroup.pinned).toBe(1);
      expect(summary.byOsVersion['2.0.0']).toBe(10);
      expect(Object.values(summary.byChannel).reduce((a, b) => a + b, 0)).toBe(page.total);
    });

    it('resolves a target to nodes for other services, with optional paging', async () => {
      const reply = await h.call<MatchNodesReply>('match', { selector: 'zone=b', groups: ['canary'] });
      expect(reply.nodes).toEqual(
        nodes
          .filter((n) => n.labels?.zone === 'b' && n.group === 'canary')
          .map((n) => ({ id: n.nodeId, group: 'canary', labels: n.labels, status: 'online' })),
      );
      expect(reply.nextCursor).toBeNull();
      const first = await h.call<MatchNodesReply>('match', { groups: ['main'], limit: 15 });
      expect(first.nodes).toHaveLength(15);
      const second = await h.call<MatchNodesReply>('match', { groups: ['main'], limit: 15, cursor: first.nextCursor });
      expect(second.nodes).toHaveLength(5);
      expect(second.nextCursor).toBeNull();
      await expect(h.call('match', { groups: ['Not A Group'] })).rejects.toMatchObject({ code: 'validation_failed' });
    });
  });
});

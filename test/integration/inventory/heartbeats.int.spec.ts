import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryStats, NodeView } from '#contracts/inventory';
import { encodeJson } from '#lib/messaging';
import { eventually } from '../../support/infra.js';
import { InventoryHarness, heartbeat, hello } from './support.js';

const METRICS_PORT = 20_000 + Math.floor(Math.random() * 20_000);

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('inventory: heartbeat ingestion', () => {
  const h = new InventoryHarness({ HEARTBEAT_FLUSH_MS: '100', METRICS_PORT: String(METRICS_PORT) });

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('writes 500 heartbeats from 500 nodes with a handful of statements, not one each', async () => {
    const ids = Array.from({ length: 500 }, (_, i) => `batch-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => h.sayHello(hello(id))));
    const before = { ...h.heartbeats().stats() };

    for (const id of ids) h.beat(id, heartbeat({ uptimeSeconds: 4242, load: [1, 2, 3] }));
    await h.client.nc.flush();

    await eventually(async () => {
      const [row] = await h.sql<{ n: number }>(`SELECT count(*)::int AS n FROM inventory.nodes WHERE uptime_seconds = 4242`);
      return row.n === 500;
    });
    // Each statement is its own transaction, and a row carries the id (xmin) of the transaction
    // that last wrote it: 500 single-row statements would leave 500 distinct xmins.
    const [{ writers }] = await h.sql<{ writers: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS writers FROM inventory.nodes WHERE uptime_seconds = 4242`,
    );
    expect(writers).toBeLessThanOrEqual(5);
    const after = h.heartbeats().stats();
    expect(after.flushes - before.flushes).toBeLessThanOrEqual(5);
    expect(after.rowsFlushed - before.rowsFlushed).toBe(500);
    expect(after.heartbeatsFlushed - before.heartbeatsFlushed).toBe(500);
    expect(await metric('fleet_inventory_heartbeat_rows_flushed_total')).toBeGreaterThanOrEqual(500);

    const node = await h.call<NodeView>('get', { id: 'batch-123' });
    expect(node).toMatchObject({
      status: 'online',
      health: 'healthy',
      uptimeSeconds: 4242,
      load: [1, 2, 3],
      memory: { totalBytes: 8e9, availableBytes: 4e9 },
      disk: { totalBytes: 100e9, availableBytes: 50e9 },
    });
  });

  it('coalesces a burst from one node into few rows, keeping the newest heartbeat', async () => {
    await h.sayHello(hello('chatty'));
    await h.heartbeats().flush();
    const before = { ...h.heartbeats().stats() };
    for (let i = 1; i <= 300; i++) h.beat('chatty', heartbeat({ uptimeSeconds: i }));
    await h.client.nc.flush();
    await eventually(async () => (await h.call<NodeView>('get', { id: 'chatty' })).uptimeSeconds === 300);
    const after = h.heartbeats().stats();
    expect(after.heartbeatsFlushed - before.heartbeatsFlushed).toBe(300);
    expect(after.rowsFlushed - before.rowsFlushed).toBeLessThan(30);
    expect(after.coalesced - before.coalesced).toBeGreaterThan(270);
    expect(await metric('fleet_inventory_heartbeats_coalesced_total')).toBeGreaterThan(270);
  });

  it('asks an unknown node to hello again, once per rate-limit period', async () => {
    const notices: unknown[] = [];
    const sub = h.client.nc.subscribe(h.client.subjects.node('ghost', 'hello-again'), {
      callback: (_err, msg) => {
        notices.push(msg.json());
      },
    });
    await h.client.nc.flush();
    h.beat('ghost');
    await eventually(() => notices.length === 1);
    const flushes = h.heartbeats().stats().flushes;
    h.beat('ghost');
    h.beat('batch-000'); // a known node, so the next flush has something to write
    await eventually(() => h.heartbeats().stats().flushes > flushes);
    await h.client.nc.flush();
    sub.unsubscribe();
    expect(notices).toEqual([{ v: 1, reason: expect.any(String) }]);
    expect(await metric('fleet_inventory_heartbeats_unknown_node_total')).toBe(2);
    await expect(h.call('get', { id: 'ghost' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reports its ingestion counters on the stats verb, not counting unknown nodes as ingested', async () => {
    const before = await h.call<InventoryStats>('stats', {});
    h.beat('phantom');
    h.beat('batch-002');
    await eventually(async () => (await h.call<InventoryStats>('stats', {})).heartbeats.flushes > before.heartbeats.flushes);
    const after = await h.call<InventoryStats>('stats', {});
    expect(after.heartbeats.received - before.heartbeats.received).toBe(2);
    expect(after.heartbeats.heartbeatsFlushed - before.heartbeats.heartbeatsFlushed).toBe(1);
    expect(after.heartbeats.rowsFlushed - before.heartbeats.rowsFlushed).toBe(1);
    expect(after.offlineDetection.leader).toBe(true);
    expect(after.replica).toMatch(/:\d+$/);
  });

  it('emits node.updated when a heartbeat reports a new booted OS version', async () => {
    await h.sayHello(hello('upgraded', { os: { name: 'Fleet Linux', version: '1.0.0' } }));
    h.beat('upgraded', heartbeat({ osVersion: '1.1.0' }));
    const event = await eventually(async () =>
      (await h.events()).find(
        (e) => e.type === 'inventory.node.updated' && (e.data.node as NodeView).id === 'upgraded' && (e.data.changed as string[]).includes('os.version'),
      ),
    );
    expect((event.data.node as NodeView).os.version).toBe('1.1.0');
    // The flush reads the node from its own UPDATE (to_jsonb): the same view `get` gives.
    expect(event.data.node).toEqual(await h.call<NodeView>('get', { id: 'upgraded' }));
  });

  it('keeps heartbeats through a failed flush and writes the newest once the database is back', async () => {
    await h.sayHello(hello('resilient'));
    await h.heartbeats().flush();
    const before = { ...h.heartbeats().stats() };
    await h.sql('ALTER TABLE inventory.nodes RENAME TO nodes_away');
    try {
      h.beat('resilient', heartbeat({ uptimeSeconds: 1 }));
      await eventually(() => h.heartbeats().stats().failedFlushes > before.failedFlushes);
      h.beat('resilient', heartbeat({ uptimeSeconds: 2 }));
      await h.client.nc.flush();
      await eventually(() => h.heartbeats().stats().received - before.received === 2);
    } finally {
      await h.sql('ALTER TABLE inventory.nodes_away RENAME TO nodes');
    }
    await eventually(async () => (await h.call<NodeView>('get', { id: 'resilient' })).uptimeSeconds === 2);
    const after = h.heartbeats().stats();
    expect(after.heartbeatsFlushed - before.heartbeatsFlushed).toBe(2);
    expect(after.rowsFlushed - before.rowsFlushed).toBe(1);
    expect(await metric('fleet_inventory_heartbeat_flush_failures_total')).toBeGreaterThanOrEqual(1);
  });

  it('counts and drops malformed, oversized, unknown-version and bad-id heartbeats and keeps ingesting', async () => {
    const before = { ...h.heartbeats().stats() };
    const raw = (id: string, bytes: Uint8Array) => h.client.nc.publish(h.client.subjects.agent(id, 'heartbeat'), bytes);
    raw('batch-001', new TextEncoder().encode('{"v":1,'));
    raw('batch-001', encodeJson({ ...heartbeat(), pad: 'x'.repeat(4000) }));
    raw('batch-001', encodeJson({ ...heartbeat(), v: 2 }));
    raw('batch-001', encodeJson({ ...heartbeat(), load: [1, 2] }));
    raw('-starts-with-dash', encodeJson(heartbeat()));
    raw('x'.repeat(200), encodeJson(heartbeat()));
    h.beat('batch-001', heartbeat({ uptimeSeconds: 777 }));
    await h.client.nc.flush();
    await eventually(async () => (await h.call<NodeView>('get', { id: 'batch-001' })).uptimeSeconds === 777);
    expect(h.heartbeats().stats().received - before.received).toBe(1);
    const results = await Promise.all(
      ['bad_request', 'payload_too_large', 'unsupported_version', 'validation_failed'].map((r) =>
        metric('fleet_nats_messages_total', `handler="inventory.heartbeat",result="${r}"`),
      ),
    );
    expect(results).toEqual([1, 1, 1, 3]);
    await expect(h.sayHello(hello('still-serving'))).resolves.toMatchObject({ registered: true });
  });
});

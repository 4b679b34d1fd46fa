import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodePage, NodeView } from '#contracts/inventory';
import { InventoryHarness, hello } from './support.js';

describe('inventory hello and queries', () => {
  const h = new InventoryHarness({ HEARTBEAT_INTERVAL_SECONDS: '7.5' });

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('registers a new node and returns the heartbeat interval', async () => {
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
      status: 'online',
      os: { name: 'Fleet Linux', version: '4081.2.0' },
      runtimes: [{ name: 'containerd', version: '1.7.13' }],
      bootedSlot: 'a',
      health: 'unknown',
      load: null,
    });
  });

  it('lists nodes', async () => {
    const page = await h.call<NodePage>('list', {});
    expect(page.items.map((n) => n.id)).toEqual(['alpha']);
    expect(page.total).toBe(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeView } from '#contracts/inventory';
import { eventually } from '../../support/infra.js';
import { InventoryHarness, heartbeat, hello } from './support.js';

/**
 * Short intervals: heartbeat every 0.5 s, offline after 1.5 s of silence, flush every 50 ms,
 * leader takeover attempts every 200 ms. Two inventory instances share the database and subjects.
 */
describe('inventory: offline detection', () => {
  const h = new InventoryHarness({ HEARTBEAT_INTERVAL_SECONDS: '0.5', HEARTBEAT_FLUSH_MS: '50', LEADER_RETRY_MS: '200' });
  let steadyTimer: NodeJS.Timeout;
  const status = async (id: string) => (await h.call<NodeView>('get', { id })).status;
  const eventsOf = async (type: string, id: string) =>
    (await h.events()).filter((e) => e.type === `inventory.node.${type}` && e.data.nodeId === id);

  beforeAll(async () => {
    await h.setUp();
    await h.start();
    await h.sayHello(hello('steady'));
    // A healthy agent: heartbeats every 100 ms throughout the file.
    steadyTimer = setInterval(() => h.beat('steady'), 100);
  });
  afterAll(async () => {
    clearInterval(steadyTimer);
    await h.tearDown();
  });

  it('elects exactly one of the two instances to run detection', async () => {
    await eventually(() => h.instances.some((i) => h.detector(i).isLeader));
    expect(h.instances.filter((i) => h.detector(i).isLeader)).toHaveLength(1);
  });

  it('marks a silent node offline after three intervals and emits node.offline', async () => {
    await h.sayHello(hello('quiet'));
    expect(await status('quiet')).toBe('online');
    await eventually(async () => (await status('quiet')) === 'offline', 8000);
    const [event] = await eventually(() => eventsOf('offline', 'quiet'));
    expect(event.data).toEqual({ nodeId: 'quiet', lastSeenAt: expect.any(String), at: expect.any(String) });
    expect(Date.parse(event.data.at as string) - Date.parse(event.data.lastSeenAt as string)).toBeGreaterThanOrEqual(1500);
  });

  it('brings it back online on its next heartbeat, with node.online', async () => {
    h.beat('quiet', heartbeat({ health: 'degraded' }));
    await eventually(async () => (await status('quiet')) === 'online');
    expect((await h.call<NodeView>('get', { id: 'quiet' })).health).toBe('degraded');
    await eventually(async () => (await eventsOf('online', 'quiet')).length === 1);
  });

  it('brings it back online on a hello too', async () => {
    await eventually(async () => (await status('quiet')) === 'offline', 8000);
    await h.sayHello(hello('quiet'));
    expect(await status('quiet')).toBe('online');
    await eventually(async () => (await eventsOf('online', 'quiet')).length === 2);
  });

  it('never marks a node offline while its heartbeats keep coming', async () => {
    expect(await status('steady')).toBe('online');
    expect(await eventsOf('offline', 'steady')).toEqual([]);
    const passes = h.instances.map((i) => h.detector(i).passes).reduce((a, b) => a + b, 0);
    expect(passes).toBeGreaterThan(5);
  });

  it('hands detection to the other instance when the leader stops', async () => {
    const leader = h.instances.find((i) => h.detector(i).isLeader)!;
    const follower = h.instances.find((i) => i !== leader)!;
    await leader.close();
    await eventually(() => h.detector(follower).isLeader, 5000);

    await h.sayHello(hello('after-failover'));
    await eventually(async () => (await status('after-failover')) === 'offline', 8000);
    expect(await status('steady')).toBe('online');
    expect(await eventsOf('offline', 'steady')).toEqual([]);
  });
});

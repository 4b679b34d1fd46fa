import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutView } from '#contracts/updater';
import { eventually } from '../../support/infra.js';
import { UpdaterHarness, allRolloutNodes, sampleHolders } from './harness.js';

describe('updater: controller failover', () => {
  const h = new UpdaterHarness();

  beforeAll(async () => {
    await h.setUp({ updaters: 2 });
  });
  afterAll(async () => {
    await h.tearDown();
  });

  it('continues a rollout after the leader stops mid-way, losing and doubling nothing', async () => {
    const nodes = Array.from({ length: 40 }, (_, i) => h.fleet.add({ id: `fo-${String(i).padStart(2, '0')}`, version: '1.0.0', group: `g${i % 2}` }));
    await h.fleet.helloAll();
    await h.createRelease('1.0.0');
    const release = await h.createRelease('1.1.0');
    const first = await h.leader();
    const sampler = sampleHolders(h);
    await h.fleet.startAuto();
    const r = await h.call<RolloutView>('createRollout', {
      releaseId: release.id,
      strategy: { type: 'waves', waves: [10, 50, 100], soakSeconds: 1 },
      rebootSlotsPerGroup: 2,
    });
    // Let the first wave open and some nodes finish, then kill the controller's replica.
    await eventually(async () => {
      const v = await h.call<RolloutView>('getRollout', { id: r.id });
      return v.waves[0].openedAt !== null && (v.counts.byState.succeeded ?? 0) > 0;
    });
    const before = await h.call<RolloutView>('getRollout', { id: r.id });
    expect(before.state).toBe('running');
    await first.close();
    const second = await h.leader();
    expect(second).not.toBe(first);

    await eventually(async () => (await h.call<RolloutView>('getRollout', { id: r.id })).state === 'completed', 30_000);
    const max = await sampler.stop();
    for (const g of ['g0', 'g1']) expect(max.get(g) ?? 0).toBeLessThanOrEqual(2);
    const view = await h.call<RolloutView>('getRollout', { id: r.id });
    expect(view.counts).toEqual({ total: 40, byState: { succeeded: 40 } });
    for (const n of nodes) expect(n.version).toBe('1.1.0');
    const rows = await allRolloutNodes(h, r.id);
    for (const row of rows) {
      const states = row.transitions.map((t) => t.state);
      expect(new Set(states).size).toBe(states.length);
      expect(states[0]).toBe('pending');
      expect(states[states.length - 1]).toBe('succeeded');
    }
    // One desired update per node, each activated exactly once.
    const [{ n }] = await h.sql<{ n: number }>(`SELECT count(*)::int AS n FROM updater.desired_updates WHERE rollout_id = $1`, [r.id]);
    expect(n).toBe(40);
    expect(h.fleet.errors).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutView } from '#contracts/updater';
import type { VirtualNode } from '../../../apps/updater/src/testing/virtual-fleet.js';
import { eventually } from '../../support/infra.js';
import { UpdaterHarness, allRolloutNodes } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Per-node deadlines against the real inventory, PostgreSQL and NATS, nodes driven over NATS.
 * Two updater replicas: slot requests land on either, only the elected one times nodes out.
 */
describe('updater: nodes that stop talking are timed out by the elected controller', () => {
  const h = new UpdaterHarness();
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];

  beforeAll(async () => {
    await h.setUp({ updaters: 2 });
    h.client.nc.subscribe(h.client.subjects.event('updater', '>'), { callback: (_e, m) => void events.push(m.json()) });
  });
  afterAll(async () => {
    await h.tearDown();
  });

  /** `n` registered nodes on their own channel (one open rollout per channel), the first driven by hand. */
  async function rollout(channel: string, n: number, group: string, body: Record<string, unknown>): Promise<{ nodes: VirtualNode[]; r: RolloutView }> {
    const nodes = Array.from({ length: n }, (_, i) => h.fleet.add({ id: `${channel}-${i}`, channel, group, version: '1.0.0' }));
    await Promise.all(nodes.map((x) => x.hello()));
    nodes[0].behaviour = 'silent';
    await h.createRelease('1.0.0', { channel });
    const release = await h.createRelease('1.1.0', { channel });
    const r = await h.call<RolloutView>('createRollout', { releaseId: release.id, strategy: { type: 'waves', waves: [100], soakSeconds: 0 }, ...body });
    await eventually(async () => (await nodes[0].desired()).update !== null);
    return { nodes, r };
  }

  const rowOf = async (id: string, nodeId: string) => (await allRolloutNodes(h, id, { nodeId }))[0] as Awaited<ReturnType<typeof allRolloutNodes>>[number] & { message: string | null };
  const holders = async (group: string) =>
    (await h.sql<{ holder: string }>(`SELECT holder FROM updater.reboot_locks WHERE "group" = $1 ORDER BY holder`, [group])).map((x) => x.holder);

  it('times out a slot holder that went silent in awaiting_reboot, frees its slot and counts it against the threshold', async () => {
    const { nodes, r } = await rollout('hold', 4, 'rack-h', { rebootSlotsPerGroup: 1, rebootWaitTimeoutSeconds: 2, nodeTimeoutSeconds: 60, failureThresholdPercent: 10 });
    const [stuck] = nodes;
    const base = { rolloutId: r.id, version: '1.1.0' };
    await stuck.report({ ...base, state: 'downloading', fromVersion: '1.0.0' });
    await stuck.report({ ...base, state: 'staged' });
    await stuck.report({ ...base, state: 'awaiting_reboot' });
    await expect(stuck.lock('acquire')).resolves.toMatchObject({ granted: true });
    // The others queue behind it and keep asking; the holder stays alive by asking too, then
    // goes silent without ever reporting `rebooting` (it crashed between grant and reboot).
    // (Not awaited: the reconciles it starts wait for their slots.)
    const auto = h.fleet.startAuto();
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'awaiting_reboot' })).length === 4);
    const othersWaitingSince = Date.now();
    for (let i = 0; i < 8; i++) {
      await sleep(300);
      await expect(stuck.lock('acquire')).resolves.toMatchObject({ granted: true });
    }
    const lastAsk = Date.now();
    expect((await rowOf(r.id, stuck.id)).state).toBe('awaiting_reboot');
    expect(await holders('rack-h')).toEqual([stuck.id]);

    const failed = await eventually(async () => {
      const row = await rowOf(r.id, stuck.id);
      return row.state === 'failed' ? row : null;
    }, 10_000);
    expect(failed).toMatchObject({ code: 'timeout', message: 'no report or reboot-slot request for 2 s in awaiting_reboot' });
    // (Two replicas pull reports, so an earlier step may land after a later one and be skipped.)
    expect(failed.transitions.map((t) => t.state).slice(-2)).toEqual(['awaiting_reboot', 'failed']);
    // Not before two seconds of silence (a little slack: the test's and the database's clocks).
    expect(Date.parse(failed.transitions.at(-1)!.at) - lastAsk).toBeGreaterThanOrEqual(1900);
    // Its slot went at once (the lease had 15 minutes left), announced as a timeout release.
    expect(await holders('rack-h')).not.toContain(stuck.id);
    await eventually(() => events.some((e) => e.type === 'updater.lock.released' && e.data.holder === stuck.id && e.data.by === 'timeout'));
    await expect(stuck.desired()).resolves.toEqual({ v: 1, update: null });
    const timedOut = events
      .filter((e) => e.type === 'updater.node.states' && e.data.rolloutId === r.id)
      .flatMap((e) => e.data.transitions as Array<{ nodeId: string; state: string; code: string | null }>)
      .filter((t) => t.nodeId === stuck.id && t.state === 'failed');
    expect(timedOut).toEqual([expect.objectContaining({ code: 'timeout' })]);

    // The failure counts: 1 of 4 is past 10%, so the rollout paused itself.
    const paused = await h.call<RolloutView>('getRollout', { id: r.id });
    expect(paused).toMatchObject({ state: 'paused', reason: 'wave 1: 1 of 4 nodes failed (25% > 10%)', rebootWaitTimeoutSeconds: 2 });

    // The waiting nodes, which asked all along, were not timed out although they had waited
    // longer than the deadline: they got the freed slot in turn and finished.
    expect(Date.parse(failed.transitions.at(-1)!.at) - othersWaitingSince).toBeGreaterThan(2000);
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'succeeded' })).length === 3, 10_000);
    await auto;
    expect(h.fleet.errors).toEqual([]);
    h.fleet.stopAuto();
  });

  it('lets nodes wait for a closed maintenance window while they ask, and times out the one that stopped asking', async () => {
    const start = new Date(Date.now() + 3 * 3600_000);
    const hhmm = `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
    const { nodes, r } = await rollout('night', 3, 'rack-n', {
      rebootWaitTimeoutSeconds: 2,
      nodeTimeoutSeconds: 60,
      failureThresholdPercent: 100,
      maintenanceWindows: { 'rack-n': [{ start: hhmm, lengthMinutes: 30, timeZone: 'UTC' }] },
    });
    const [gone] = nodes;
    const base = { rolloutId: r.id, version: '1.1.0' };
    await gone.report({ ...base, state: 'downloading', fromVersion: '1.0.0' });
    await gone.report({ ...base, state: 'staged' });
    await gone.report({ ...base, state: 'awaiting_reboot', code: 'outside_maintenance_window' });
    await expect(gone.lock('acquire')).resolves.toMatchObject({ granted: false, reason: 'outside_maintenance_window' });
    // Not awaited: the others wait for the window until the rollout is aborted.
    void h.fleet.startAuto().catch(() => undefined);
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'awaiting_reboot' })).length === 3);

    const failed = await eventually(async () => {
      const row = await rowOf(r.id, gone.id);
      return row.state === 'failed' ? row : null;
    }, 10_000);
    expect(failed).toMatchObject({ code: 'timeout', message: 'no report or reboot-slot request for 2 s in awaiting_reboot' });
    // Well past the deadline in awaiting_reboot, the nodes still asking are still waiting.
    await sleep(1500);
    const waiting = await allRolloutNodes(h, r.id, { state: 'awaiting_reboot' });
    expect(waiting.map((w) => w.nodeId).sort()).toEqual([nodes[1].id, nodes[2].id]);
    for (const w of waiting) {
      const since = Date.parse(w.transitions.find((t) => t.state === 'awaiting_reboot')!.at);
      expect(Date.now() - since).toBeGreaterThan(3000);
    }
    h.fleet.stopAuto();
    await h.call('abortRollout', { id: r.id });
  });

  it('times out a node silent in rebooting after the node timeout and frees the slot it held', async () => {
    const { nodes, r } = await rollout('boot', 1, 'rack-b', { rebootSlotsPerGroup: 1, nodeTimeoutSeconds: 2, failureThresholdPercent: 100 });
    const [lost] = nodes;
    const base = { rolloutId: r.id, version: '1.1.0' };
    await lost.report({ ...base, state: 'downloading', fromVersion: '1.0.0' });
    await lost.report({ ...base, state: 'staged' });
    await expect(lost.lock('acquire')).resolves.toMatchObject({ granted: true });
    await lost.report({ ...base, state: 'rebooting' });
    const failed = await eventually(async () => {
      const row = await rowOf(r.id, lost.id);
      return row.state === 'failed' ? row : null;
    }, 10_000);
    expect(failed).toMatchObject({ code: 'timeout', message: 'no report for 2 s in rebooting' });
    expect(await holders('rack-b')).toEqual([]);
    await eventually(async () => (await h.call<RolloutView>('getRollout', { id: r.id })).state === 'completed');
  });
});

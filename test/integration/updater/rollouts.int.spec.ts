import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredUpdate, ReleaseView, RolloutView } from '#contracts/updater';
import { encodeJson } from '#lib/messaging';
import { bucketOf, waveOf } from '../../../apps/updater/src/rollouts/waves.js';
import type { VirtualNode } from '../../../apps/updater/src/testing/virtual-fleet.js';
import { eventually } from '../../support/infra.js';
import { UpdaterHarness, allRolloutNodes, sampleHolders } from './harness.js';

describe('updater: rollouts to real inventory nodes driven by virtual agents', () => {
  const h = new UpdaterHarness();
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];

  beforeAll(async () => {
    await h.setUp();
    h.client.nc.subscribe(h.client.subjects.event('updater', '>'), {
      callback: (_e, m) => void events.push(m.json()),
    });
  });
  afterAll(async () => {
    await h.tearDown();
  });

  /** Registers `n` nodes on their own channel (one open rollout per channel and arch). */
  async function fleet(channel: string, n: number, extra: Partial<Parameters<typeof h.fleet.add>[0]> = {}): Promise<VirtualNode[]> {
    const nodes = Array.from({ length: n }, (_, i) => h.fleet.add({ id: `${channel}-${String(i).padStart(3, '0')}`, channel, version: '1.0.0', ...extra }));
    await Promise.all(nodes.map((x) => x.hello()));
    await h.createRelease('1.0.0', { channel });
    return nodes;
  }

  async function rollout(channel: string, body: Record<string, unknown>): Promise<{ release: ReleaseView; rollout: RolloutView }> {
    const release = await h.createRelease('1.1.0', { channel });
    const created = await h.call<RolloutView>('createRollout', { releaseId: release.id, ...body });
    return { release, rollout: created };
  }

  const get = (id: string) => h.call<RolloutView>('getRollout', { id });
  const waitState = (id: string, state: string, ms = 15_000) => eventually(async () => (await get(id)).state === state, ms);

  it('offers nothing to a node without a rollout', async () => {
    const [node] = await fleet('idle', 1);
    await expect(node.desired()).resolves.toEqual({ v: 1, update: null });
  });

  it('advances wave by wave after the soak, never exceeding the reboot slots, and completes', async () => {
    const nodes = await fleet('waves', 30, { group: 'rack-a' });
    const waves = [10, 50, 100];
    const waveOfNode = new Map(nodes.map((n) => [n.id, waveOf(bucketOf(n.id), waves)]));
    expect([...waveOfNode.values()].filter((w) => w === 0).length).toBeGreaterThan(0);
    const sampler = sampleHolders(h);
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('waves', {
      strategy: { type: 'waves', waves, soakSeconds: 1 },
      rebootSlotsPerGroup: 2,
      nodeTimeoutSeconds: 60,
    });
    expect(r.state).toBe('pending');
    await waitState(r.id, 'completed', 25_000);
    const max = await sampler.stop();
    expect(max.get('rack-a')).toBeGreaterThan(0);
    expect(max.get('rack-a')).toBeLessThanOrEqual(2);
    expect(h.fleet.maxHolders.get('rack-a')).toBeLessThanOrEqual(2);
    expect(h.fleet.errors).toEqual([]);

    const view = await get(r.id);
    expect(view.counts).toEqual({ total: 30, byState: { succeeded: 30 } });
    expect(view.waves.map((w) => w.total)).toEqual([0, 1, 2].map((w) => [...waveOfNode.values()].filter((x) => x === w).length));
    for (const n of nodes) expect(n.version).toBe('1.1.0');

    // Stable waves: every node was activated in its own wave, and each wave only after the
    // previous one finished and soaked.
    const rows = await allRolloutNodes(h, r.id);
    for (const row of rows) expect(row.wave).toBe(waveOfNode.get(row.nodeId));
    for (let w = 1; w < waves.length; w++) {
      const prevFinished = Date.parse(view.waves[w - 1].finishedAt!);
      for (const row of rows.filter((x) => x.wave === w)) {
        expect(Date.parse(row.activatedAt!)).toBeGreaterThanOrEqual(prevFinished + (view.waves[w - 1].total > 0 ? 1000 : 0));
      }
    }
    // Each node went through every state once, timestamped, in order.
    expect(rows[0].transitions.map((t) => t.state)).toEqual(['pending', 'downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying', 'succeeded']);
    await eventually(() => events.some((e) => e.type === 'updater.rollout.state' && e.data.rolloutId === r.id && e.data.state === 'completed'));
    expect(events.filter((e) => e.type === 'updater.rollout.wave_opened' && e.data.rolloutId === r.id).map((e) => e.data.wave)).toEqual([0, 1, 2]);
    const transitions = events
      .filter((e) => e.type === 'updater.node.states' && e.data.rolloutId === r.id)
      .flatMap((e) => e.data.transitions as Array<{ nodeId: string; state: string }>);
    expect(transitions.filter((t) => t.state === 'succeeded').length).toBe(30);
    expect(transitions.length).toBe(30 * 6);
    h.fleet.stopAuto();
  });

  it('pauses itself when a wave fails past the threshold, and continues after resume', async () => {
    const nodes = await fleet('thresh', 20);
    for (const n of nodes.slice(0, 3)) n.behaviour = 'health_fails';
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('thresh', {
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      rebootSlotsPerGroup: 20,
      failureThresholdPercent: 5,
    });
    await waitState(r.id, 'paused');
    const paused = await get(r.id);
    expect(paused.reason).toMatch(/^wave 1: \d+ of 20 nodes failed \(\d+(\.\d)?% > 5%\)$/);
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'rolled_back' })).length === 3);
    const rolledBack = await allRolloutNodes(h, r.id, { state: 'rolled_back' });
    expect(rolledBack.every((x) => x.code === 'health_check_failed')).toBe(true);
    // A node that fell back is not asked to try again.
    await expect(nodes[0].desired()).resolves.toEqual({ v: 1, update: null });
    expect(nodes[0].version).toBe('1.0.0');

    await h.call('resumeRollout', { id: r.id });
    await waitState(r.id, 'completed');
    expect((await get(r.id)).counts.byState).toEqual({ succeeded: 17, rolled_back: 3 });
    h.fleet.stopAuto();
  });

  it('ramps a linear rollout by stable buckets over its duration and completes', async () => {
    await fleet('linear', 12);
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('linear', { strategy: { type: 'linear', durationSeconds: 3 }, rebootSlotsPerGroup: 12 });
    // Part-way through the ramp only the lowest buckets have been offered the update.
    const early = await eventually(async () => {
      const rows = await allRolloutNodes(h, r.id, { activated: true });
      return rows.length > 0 && rows.length < 12 ? rows : null;
    });
    const activatedBuckets = new Set(early.map((x) => x.nodeId));
    const all = await allRolloutNodes(h, r.id);
    const maxActive = Math.max(...all.filter((x) => activatedBuckets.has(x.nodeId)).map((x) => x.bucket));
    for (const x of all) if (!activatedBuckets.has(x.nodeId)) expect(x.bucket).toBeGreaterThan(maxActive);
    await waitState(r.id, 'completed');
    expect((await get(r.id)).counts).toEqual({ total: 12, byState: { succeeded: 12 } });
    h.fleet.stopAuto();
  });

  it('marks a node that stops making progress failed with code timeout', async () => {
    const nodes = await fleet('slow', 3);
    nodes[1].behaviour = 'silent';
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('slow', {
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      rebootSlotsPerGroup: 3,
      nodeTimeoutSeconds: 1,
      failureThresholdPercent: 50,
    });
    await waitState(r.id, 'completed');
    const [silent] = await allRolloutNodes(h, r.id, { nodeId: nodes[1].id });
    expect(silent).toMatchObject({ state: 'failed', code: 'timeout' });
    expect(silent.transitions.map((t) => t.state)).toEqual(['pending', 'failed']);
    h.fleet.stopAuto();
  });

  it('aborts: nodes that had not rebooted lose their desired update', async () => {
    const nodes = await fleet('abort', 4);
    const { rollout: r, release } = await rollout('abort', { strategy: { type: 'waves', waves: [100], soakSeconds: 0 }, rebootSlotsPerGroup: 4 });
    const desired = await eventually(async () => {
      const d = await nodes[0].desired();
      return d.update ? d : null;
    });
    expect(desired.update).toMatchObject({ rolloutId: r.id, rollback: false, group: 'default', release: { id: release.id, version: '1.1.0', payload: release.payload } });
    await nodes[0].report({ rolloutId: r.id, version: '1.1.0', state: 'downloading', fromVersion: '1.0.0' });
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'downloading' })).length === 1);

    const notices: DesiredUpdate[] = [];
    h.client.nc.subscribe(h.client.subjects.node(nodes[0].id, 'update'), { callback: (_e, m) => void notices.push(m.json()) });
    await h.client.nc.flush();
    const aborted = await h.call<RolloutView>('abortRollout', { id: r.id, reason: 'wrong image' });
    expect(aborted).toMatchObject({ state: 'aborted', reason: 'wrong image' });
    expect(aborted.endedAt).not.toBeNull();
    for (const n of nodes) await expect(n.desired()).resolves.toEqual({ v: 1, update: null });
    await eventually(() => notices.some((x) => x.update === null));
    expect((await h.callError('pauseRollout', { id: r.id })).code).toBe('conflict');
  });

  it('rolls back: updated nodes return to their previous release without a download', async () => {
    const nodes = await fleet('rb', 6);
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('rb', { strategy: { type: 'waves', waves: [100], soakSeconds: 0 }, rebootSlotsPerGroup: 3 });
    await waitState(r.id, 'completed');
    for (const n of nodes) expect(n.version).toBe('1.1.0');

    const rolled = await h.call<RolloutView>('rollbackRollout', { id: r.id, reason: 'latency regression' });
    expect(rolled).toMatchObject({ state: 'rolled_back', reason: 'latency regression', endedAt: null });
    const d = await nodes[0].desired();
    expect(d.update).toMatchObject({ rollback: true, release: { version: '1.0.0' } });
    await eventually(async () => (await get(r.id)).endedAt !== null, 15_000);
    for (const n of nodes) expect(n.version).toBe('1.0.0');
    const rows = await allRolloutNodes(h, r.id);
    expect(rows.every((x) => x.rollback && x.state === 'succeeded')).toBe(true);
    expect(rows[0].transitions.map((t) => t.state)).toEqual([
      'pending', 'downloading', 'staged', 'awaiting_reboot', 'rebooting', 'verifying', 'succeeded',
      'pending', 'awaiting_reboot', 'rebooting', 'verifying', 'succeeded',
    ]);
    // The rollback never asked a node to download: its first step was the slot switch.
    h.fleet.stopAuto();
  });

  it('holds reboots outside the rollout maintenance window while downloads proceed', async () => {
    const nodes = await fleet('win', 2, { group: 'night' });
    const start = new Date(Date.now() + 3 * 3600_000);
    const hhmm = `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
    await h.fleet.startAuto();
    const { rollout: r } = await rollout('win', {
      strategy: { type: 'waves', waves: [100], soakSeconds: 0 },
      maintenanceWindows: { night: [{ start: hhmm, lengthMinutes: 30, timeZone: 'UTC' }] },
    });
    await eventually(async () => (await allRolloutNodes(h, r.id, { state: 'awaiting_reboot' })).length === 2);
    const reply = await nodes[0].lock('acquire', 'night');
    expect(reply).toMatchObject({ granted: false, reason: 'outside_maintenance_window' });
    h.fleet.stopAuto();
    await h.call('abortRollout', { id: r.id });
  });

  it('follows inventory events: a decommissioned node loses its desired update', async () => {
    const nodes = await fleet('decom', 2);
    const { rollout: r } = await rollout('decom', { strategy: { type: 'waves', waves: [100], soakSeconds: 0 } });
    await eventually(async () => (await nodes[0].desired()).update !== null);
    await h.client.request(h.client.subjects.svc('inventory', 'decommission'), { id: nodes[0].id });
    await eventually(async () => (await nodes[0].desired()).update === null);
    const [row] = await allRolloutNodes(h, r.id, { nodeId: nodes[0].id });
    expect(row.state).toBe('pending');
    expect((await nodes[1].desired()).update).not.toBeNull();
    await h.call('abortRollout', { id: r.id });
  });

  it('drops malformed or foreign reports with typed errors and keeps consuming', async () => {
    const [node] = await fleet('bad', 1);
    const { rollout: r } = await rollout('bad', { strategy: { type: 'waves', waves: [100], soakSeconds: 0 } });
    await eventually(async () => (await node.desired()).update !== null);
    const subject = h.client.subjects.agentReport(node.id, 'update');
    const publish = (body: unknown, id: string) =>
      h.client.js.publish(subject, typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body), { msgID: id });
    await publish('{garbage', 'bad-1');
    await publish({ v: 1, rolloutId: r.id, version: '1.1.0', state: 'exploded', at: new Date().toISOString() }, 'bad-2');
    await publish({ v: 1, rolloutId: r.id, version: '1.1.0', state: 'failed', at: new Date().toISOString() }, 'bad-3'); // no code
    await publish({ v: 1, rolloutId: '00000000-0000-4000-8000-000000000000', version: '1.1.0', state: 'staged', at: new Date().toISOString() }, 'bad-4');
    await publish({ v: 1, rolloutId: r.id, version: '9.9.9', state: 'staged', at: new Date().toISOString() }, 'bad-5');
    await node.report({ rolloutId: r.id, version: '1.1.0', state: 'staged', fromVersion: '1.0.0' });
    await node.report({ rolloutId: r.id, version: '1.1.0', state: 'downloading' }); // late: ignored, never goes back
    await eventually(async () => (await allRolloutNodes(h, r.id))[0].state === 'staged');
    await node.report({ rolloutId: r.id, version: '1.1.0', state: 'awaiting_reboot' });
    await eventually(async () => (await allRolloutNodes(h, r.id))[0].state === 'awaiting_reboot');
    const [row] = await allRolloutNodes(h, r.id);
    expect(row.transitions.map((t) => t.state)).toEqual(['pending', 'staged', 'awaiting_reboot']);
    // A desired-update request with a bad body gets a typed error.
    const raw = await h.client.nc.request(h.client.subjects.agent(node.id, 'update.desired'), encodeJson({ v: 7 }));
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
    await h.call('abortRollout', { id: r.id });
  });

  it('refuses a second open rollout on the same channel and arch, and rollouts of withdrawn releases', async () => {
    await fleet('dup', 1);
    const { rollout: r, release } = await rollout('dup', { paused: true });
    await waitState(r.id, 'paused');
    expect((await h.callError('createRollout', { releaseId: release.id })).code).toBe('conflict');
    const other = await h.createRelease('1.2.0', { channel: 'dup' });
    await h.call('withdrawRelease', { id: other.id, reason: 'x' });
    expect((await h.callError('createRollout', { releaseId: other.id })).code).toBe('conflict');
    expect((await h.callError('createRollout', { releaseId: release.id, strategy: { type: 'waves', waves: [50, 10] } })).code).toBe('validation_failed');
    await h.call('abortRollout', { id: r.id });
  });
});

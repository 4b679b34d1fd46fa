import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NodePage } from '#contracts/inventory';
import type { AgentContext, AgentFeature } from '../../../apps/agent/src/feature.js';
import { startSimulator, type Simulator } from '../../../apps/agent/src/simulator/simulator.js';
import { virtualIdentity } from '../../../apps/agent/src/simulator/virtual-node.js';
import { TEST_NATS_URL } from '../../support/infra.js';
import { AgentTestBed, eventually } from './support.js';

interface Started {
  ctx: AgentContext;
  config: { marker: string };
  stopped: boolean;
}

describe('fleet-agent simulate', () => {
  const bed = new AgentTestBed(TEST_NATS_URL, { HEARTBEAT_INTERVAL_SECONDS: '1' });
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
  const started: Started[] = [];
  const probe = (): AgentFeature<{ marker: string }> => {
    let me: Started | undefined;
    return {
      name: 'probe',
      configSchema: z.strictObject({ marker: z.string().default('none') }),
      facts: ({ simulated }) => ({ bootedSlot: simulated ? 'a' : null }),
      async start(ctx, config) {
        await mkdir(join(ctx.dataDir, 'probe'), { recursive: true });
        await writeFile(join(ctx.dataDir, 'probe', 'state'), ctx.nodeId);
        me = { ctx, config, stopped: false };
        started.push(me);
      },
      async stop() {
        if (me) me.stopped = true;
      },
    };
  };
  let sim: Simulator;

  beforeAll(async () => {
    await bed.setUp();
    sim = await startSimulator({
      nodes: 500,
      prefix: 'vm-',
      natsUrl: TEST_NATS_URL,
      subjectRoot: bed.root,
      groups: 4,
      heartbeatIntervalSeconds: 30,
      dataDir,
      failRate: 0.25,
      seed: 42,
      connections: 2,
      features: [probe],
      featureConfig: { probe: { marker: 'sim' } },
    });
  });
  afterAll(async () => {
    await sim?.stop();
    await bed.tearDown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers all 500 virtual nodes, which then heartbeat as real agents do', async () => {
    expect(sim.nodeIds).toHaveLength(500);
    expect(new Set(sim.nodeIds).size).toBe(500);
    expect(sim.nodeIds[0]).toBe('vm-1');
    await sim.allRegistered();
    expect(sim.stats().registered).toBe(500);
    const summary = await eventually(async () => {
      const s = await bed.summary();
      return s.total === 500 ? s : undefined;
    }, 15_000);
    expect(summary.byStatus.online).toBe(500);
    expect(summary.byGroup).toEqual({ 'group-0': 125, 'group-1': 125, 'group-2': 125, 'group-3': 125 });
    // The inventory's 1 s interval replaced the 30 s one: every node heartbeats within seconds.
    await eventually(async () => {
      const page = await bed.call<NodePage>('list', { selector: 'simulated=true', limit: 1000 });
      return page.items.length === 500 && page.items.every((n) => n.load !== null);
    }, 15_000);
  });

  it('spreads labels across zones and roles and reports the features\' facts', async () => {
    const zoneA = await bed.call<NodePage>('list', { selector: 'zone=zone-a', limit: 1 });
    const db = await bed.call<NodePage>('list', { selector: 'role=db', limit: 1 });
    const expected = (key: 'zone' | 'role', value: string) =>
      Array.from({ length: 500 }, (_, i) => virtualIdentity(i, 4, 'stable')).filter((id) => id.labels[key] === value).length;
    expect(zoneA.total).toBe(expected('zone', 'zone-a'));
    expect(db.total).toBe(expected('role', 'db'));
    expect(zoneA.total).toBeGreaterThan(150);
    expect(db.total).toBeGreaterThan(90);
    const node = await bed.node('vm-5');
    expect(node).toMatchObject({ hostname: 'vm-5', bootedSlot: 'a', os: { name: 'Fleetcore Linux', version: '1.0.0' }, arch: 'aarch64' });
  });

  it('gives each node its own feature instance, data dir and simulation settings', async () => {
    await eventually(() => started.length === 500, 10_000);
    const one = started.find((s) => s.ctx.nodeId === 'vm-9')!;
    expect(one.ctx.simulated).toBe(true);
    expect(one.ctx.simulation).toEqual({ failRate: 0.25, seed: 42 });
    expect(one.config).toEqual({ marker: 'sim' });
    expect(one.ctx.dataDir).toBe(join(dataDir, 'vm-9'));
    expect(existsSync(join(dataDir, 'vm-9', 'probe', 'state'))).toBe(true);
  });

  it('restarts one virtual node when its feature asks, leaving the others alone', async () => {
    const one = started.find((s) => s.ctx.nodeId === 'vm-17')!;
    await one.ctx.restart('simulated reboot');
    expect(one.stopped).toBe(true);
    await eventually(() => started.filter((s) => s.ctx.nodeId === 'vm-17').length === 2, 10_000);
    expect(sim.stats().restarts).toBe(1);
    expect(started.filter((s) => s.stopped)).toHaveLength(1);
    await eventually(() => sim.stats().registered === 500, 10_000);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListServicesReply } from '#contracts/discovery';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { startSimulator, type Simulator } from '../../../apps/agent/src/simulator/simulator.js';
import { discoveryFeature } from '../../../apps/agent/src/features/discovery/discovery.feature.js';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { DiscoveryHarness } from './support.js';

/** `fleet-agent simulate` with the discovery feature: virtual checks, no I/O, the real service. */
describe('discovery: simulated agents', () => {
  const h = new DiscoveryHarness();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-sim-disc-'));
  let inventory: RunningInventory;
  let sim: Simulator;

  beforeAll(async () => {
    await h.setUp(1);
    inventory = await startInventoryService({ NATS_URL: TEST_NATS_URL, DATABASE_URL: h.dbUrl, FLEET_SUBJECT_ROOT: h.root, LOG_LEVEL: 'error', FLEET_SELF_REGISTER: 'false' });
    sim = await startSimulator({
      nodes: 200,
      prefix: 'sim-',
      natsUrl: TEST_NATS_URL,
      subjectRoot: h.root,
      groups: 2,
      heartbeatIntervalSeconds: 30,
      dataDir,
      seed: 7,
      features: [discoveryFeature],
      featureConfig: {
        discovery: {
          summaryIntervalSeconds: 30,
          services: [
            { name: 'web', port: 80, tags: ['sim'], checks: [{ type: 'http', url: 'http://127.0.0.1:1/health', interval: '300ms' }] },
            { name: 'cache', port: 6379, checks: [{ type: 'ttl', ttl: '1s' }] },
          ],
        },
      },
    });
    await sim.allRegistered();
  });
  afterAll(async () => {
    await sim?.stop();
    await inventory?.close();
    await h.tearDown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers every virtual node\'s services, which pass through virtual checks', async () => {
    const list = await eventually(async () => {
      const l = await h.call<ListServicesReply>('list', {});
      const ok = l.services.length === 2 && l.services.every((s) => s.counts.passing === 200);
      return ok ? l : undefined;
    }, 20_000);
    expect(list.services.map((s) => [s.name, s.instances])).toEqual([
      ['cache', 200],
      ['web', 200],
    ]);
    const web = await h.instances('web');
    expect(new Set(web.instances.map((i) => i.address)).size).toBeGreaterThan(190);
    expect(web.instances.every((i) => /^10\.\d+\.\d+\.\d+$/.test(i.address) && i.source === 'agent')).toBe(true);
    expect(new Set(web.instances.map((i) => i.group))).toEqual(new Set(['group-0', 'group-1']));
  });
});

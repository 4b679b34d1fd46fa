import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPlatformService, type PlatformRegistration } from '#lib/messaging';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { DiscoveryHarness } from './support.js';

/** The control plane in its own catalog: the helper every Fleetcore service calls at start-up. */
describe('discovery: platform services register themselves', () => {
  const h = new DiscoveryHarness({ FLEET_SELF_REGISTER: 'true' });
  let reg: PlatformRegistration | undefined;

  beforeAll(async () => {
    await h.setUp(1);
  });
  afterAll(async () => {
    await reg?.close();
    await h.tearDown();
  });

  it('lists the discovery service itself, passing, with its DNS port', async () => {
    const [self] = await eventually(async () => {
      const r = await h.instances('discovery', { passingOnly: true });
      return r.instances.length === 1 ? r.instances : undefined;
    });
    expect(self).toMatchObject({ source: 'platform', port: h.replicas[0].dnsPort, tags: ['fleetcore', 'dns'] });
  });

  it('registers a service, keeps its TTL passing, registers again after removal, deregisters on close', async () => {
    reg = registerPlatformService(h.client, { name: 'inventory', port: 0, ttlMs: 600, id: 'inventory@test' });
    await eventually(async () => (await h.instance('inventory', 'inventory@test'))?.health === 'passing');
    // Refreshed every ttl/3: still passing well after one TTL.
    await new Promise((r) => setTimeout(r, 900));
    expect((await h.instance('inventory', 'inventory@test'))?.health).toBe('passing');
    await h.call('deregister', { id: 'inventory@test' });
    await eventually(async () => (await h.instance('inventory', 'inventory@test'))?.health === 'passing', 5000);
    await reg.close();
    reg = undefined;
    await eventually(async () => (await h.instances('inventory')).instances.length === 0);
  });

  it('turns a process that died (its connection gone) critical after its TTL', async () => {
    const processBus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'doomed', subjectRoot: h.root, service: 'updater' });
    const other = registerPlatformService(processBus, { name: 'updater', ttlMs: 400, id: 'updater@gone' });
    await eventually(async () => (await h.instance('updater', 'updater@gone'))?.health === 'passing');
    await processBus.nc.close(); // the process dies: no refresh, no deregistration
    await other.close();
    const dead = await eventually(async () => {
      const i = await h.instance('updater', 'updater@gone');
      return i?.health === 'critical' ? i : undefined;
    }, 5000);
    expect(dead.checks[0].output).toMatch(/TTL of 400 ms expired/);
  });
});

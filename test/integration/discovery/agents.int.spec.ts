import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import type { AgentDiscoveryReport, AgentRegister, AgentRegisterReply, InstanceView } from '#contracts/discovery';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { DiscoveryFeature } from '../../../apps/agent/src/features/discovery/discovery.feature.js';
import { discoveryConfigSchema } from '../../../apps/agent/src/features/discovery/config.js';
import type { AgentContext } from '../../../apps/agent/src/feature.js';
import { heartbeat, hello } from '../inventory/support.js';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { DiscoveryHarness } from './support.js';

/**
 * The agent side of discovery against the real service and the real inventory: registration of
 * full sets, JetStream check reports, node offline/online/decommission from inventory events.
 */
describe('discovery: agents and node events', () => {
  const h = new DiscoveryHarness();
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'fleet-disc-agent-'));
    dirs.push(d);
    return d;
  };
  const contextFor = (nodeId: string, dataDir: string) =>
    ({
      nodeId,
      bus: h.client,
      dataDir,
      logger: new JsonLogger('agent', 'test'),
      simulated: false,
      facts: () => ({ group: 'default' }),
      refreshHello: async () => undefined,
      restart: async () => undefined,
    }) as unknown as AgentContext;
  let inventory: RunningInventory;
  const beats = new Map<string, NodeJS.Timeout>();

  const register = (nodeId: string, services: AgentRegister['services'], group = 'default') =>
    h.client.request<AgentRegisterReply>(h.client.subjects.agent(nodeId, 'discovery.register'), { v: 1, group, services });
  const report = (nodeId: string, body: AgentDiscoveryReport | string, id = String(Math.random())) =>
    h.client.js.publish(h.client.subjects.agentReport(nodeId, 'discovery'), typeof body === 'string' ? new TextEncoder().encode(body) : encodeJson(body), { msgID: id });
  const find = async (service: string, id: string): Promise<InstanceView | undefined> => h.instance(service, id);
  const startBeating = (nodeId: string) => beats.set(nodeId, setInterval(() => h.client.publish(h.client.subjects.agent(nodeId, 'heartbeat'), heartbeat()), 100));
  const stopBeating = (nodeId: string) => clearInterval(beats.get(nodeId));

  beforeAll(async () => {
    await h.setUp(1);
    inventory = await startInventoryService({
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: h.dbUrl,
      FLEET_SUBJECT_ROOT: h.root,
      LOG_LEVEL: 'error',
      HEARTBEAT_INTERVAL_SECONDS: '0.3',
      HEARTBEAT_FLUSH_MS: '50',
      LEADER_RETRY_MS: '200',
    });
  });
  afterAll(async () => {
    for (const t of beats.values()) clearInterval(t);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await inventory?.close();
    await h.tearDown();
  });

  it('registers an agent\'s full set, idempotently, and drops definitions that disappear', async () => {
    const services = [
      { name: 'web', port: 80, address: '10.0.0.1', tags: ['v1'], checks: [{ type: 'http' as const, url: 'http://127.0.0.1/', id: 'h' }] },
      { name: 'db', port: 5432, address: '10.0.0.1' },
    ];
    const first = await register('n1', services, 'eu');
    expect(first.instances).toEqual(['n1:web', 'n1:db']);
    expect(await find('web', 'n1:web')).toMatchObject({ health: 'critical', group: 'eu', nodeId: 'n1', source: 'agent' });
    const again = await register('n1', services, 'eu');
    expect(again.index).toBe(first.index);
    const smaller = await register('n1', [services[0]], 'eu');
    expect(smaller.removed).toEqual(['n1:db']);
    expect((await h.instances('db')).instances).toEqual([]);
  });

  it('applies check transitions from JetStream reports, ignoring stale and malformed ones', async () => {
    await report('n1', 'not json');
    await report('n1', { v: 1, kind: 'transition', checks: [{ serviceId: 'web', checkId: 'h', status: 'passing', output: 'HTTP 200', at: new Date().toISOString() }] });
    const passing = await eventually(async () => ((await find('web', 'n1:web'))?.health === 'passing' ? find('web', 'n1:web') : undefined));
    expect(passing?.checks[0]).toMatchObject({ status: 'passing', output: 'HTTP 200' });
    await report('n1', { v: 1, kind: 'summary', checks: [{ serviceId: 'web', checkId: 'h', status: 'critical', output: 'old', at: '2000-01-01T00:00:00.000Z' }] });
    await report('n1', { v: 1, kind: 'transition', checks: [{ serviceId: 'web', checkId: 'h', status: 'warning', output: 'HTTP 429', at: new Date().toISOString() }] });
    await eventually(async () => (await find('web', 'n1:web'))?.health === 'warning');
  });

  it('only accepts registrations whose node id comes from the subject, with valid bodies', async () => {
    await expect(register('n1', [{ name: 'Bad Name', port: 1, address: 'x' }])).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.client.request(h.client.subjects.agent('n1', 'discovery.register'), { v: 2, services: [] })).rejects.toMatchObject({
      code: 'unsupported_version',
    });
  });

  it('turns a node\'s instances critical when the inventory sees it go offline, and back when online', async () => {
    await h.client.request(h.client.subjects.agent('n2', 'hello'), hello('n2', { labels: { zone: 'a' } }));
    startBeating('n2');
    await register('n2', [{ name: 'api', port: 9000, address: '10.0.0.2' }]);
    expect((await find('api', 'n2:api'))?.health).toBe('passing');
    stopBeating('n2');
    const offline = await eventually(async () => {
      const i = await find('api', 'n2:api');
      return i?.nodeOffline ? i : undefined;
    }, 8000);
    expect(offline.health).toBe('critical');
    expect(offline.criticalSince).not.toBeNull();
    startBeating('n2');
    await eventually(async () => (await find('api', 'n2:api'))?.health === 'passing', 8000);
  });

  it('filters by node labels through the inventory', async () => {
    const r = await h.instances('api', { nodeSelector: 'zone=a' });
    expect(r.instances.map((i) => i.id)).toEqual(['n2:api']);
    expect((await h.instances('api', { nodeSelector: 'zone=b' })).instances).toEqual([]);
  });

  it('removes a decommissioned node\'s instances', async () => {
    stopBeating('n2');
    await h.client.request(h.client.subjects.svc('inventory', 'decommission'), { id: 'n2' });
    await eventually(async () => (await h.instances('api')).instances.length === 0, 8000);
  });

  it('tells an agent which services were reaped, and the agent stops registering them', async () => {
    const feature = new DiscoveryFeature();
    const ctx = {
      nodeId: 'n4',
      bus: h.client,
      dataDir: '/tmp',
      logger: new JsonLogger('agent', 'test'),
      simulated: false,
      facts: () => ({ group: 'default' }),
      refreshHello: async () => undefined,
      restart: async () => undefined,
    } as unknown as AgentContext;
    const config = discoveryConfigSchema.parse({
      advertiseAddress: '127.0.0.1',
      services: [
        { name: 'flaky', port: 1, checks: [{ type: 'tcp', tcp: '127.0.0.1:1', interval: '200ms', deregisterCriticalAfter: '1s' }] },
        { name: 'steady', port: 2 },
      ],
    });
    try {
      await feature.start(ctx, config);
      await eventually(async () => (await find('flaky', 'n4:flaky'))?.health === 'critical');
      await eventually(async () => (await find('flaky', 'n4:flaky')) === undefined, 8000);
      // Anti-entropy (or a reconnect) registers the set again: the reaped service stays out.
      await feature.onReconnect();
      await new Promise((r) => setTimeout(r, 300));
      expect(await find('flaky', 'n4:flaky')).toBeUndefined();
      expect((await find('steady', 'n4:steady'))?.health).toBe('passing');
    } finally {
      await feature.stop();
    }
  });

  it('clears a node\'s services when its agent starts with none, and sends nothing if it never had any', async () => {
    const dataDir = tempDir();
    const first = new DiscoveryFeature();
    await first.start(contextFor('n5', dataDir), discoveryConfigSchema.parse({ advertiseAddress: '127.0.0.1', services: [{ name: 'gone', port: 1 }] }));
    await eventually(async () => (await find('gone', 'n5:gone'))?.health === 'passing');
    await first.stop();
    expect(existsSync(join(dataDir, 'discovery', 'registered'))).toBe(true);
    const second = new DiscoveryFeature();
    await second.start(contextFor('n5', dataDir), discoveryConfigSchema.parse({}));
    await eventually(async () => (await find('gone', 'n5:gone')) === undefined);
    expect(existsSync(join(dataDir, 'discovery', 'registered'))).toBe(false);
    await second.stop();

    const asked: string[] = [];
    const sub = h.client.nc.subscribe(h.client.subjects.agent('n6', 'discovery.register'), { callback: (_e, m) => void asked.push(m.subject) });
    const empty = new DiscoveryFeature();
    await empty.start(contextFor('n6', tempDir()), discoveryConfigSchema.parse({}));
    await h.client.nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    await empty.stop();
    sub.unsubscribe();
    expect(asked).toEqual([]);
  });

  describe('the agent feature in-process with a real HTTP service', () => {
    let server: Server;
    let healthy = true;
    let feature: DiscoveryFeature;

    beforeAll(async () => {
      server = createServer((_req, res) => {
        res.writeHead(healthy ? 200 : 503);
        res.end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      await feature?.stop();
      server.close();
    });

    it('registers, passes, goes critical when the service fails, and recovers', async () => {
      const port = (server.address() as AddressInfo).port;
      feature = new DiscoveryFeature();
      const ctx = {
        nodeId: 'n3',
        bus: h.client,
        dataDir: tempDir(),
        logger: new JsonLogger('agent', 'test'),
        simulated: false,
        facts: () => ({ group: 'default' }),
        refreshHello: async () => undefined,
        restart: async () => undefined,
      } as unknown as AgentContext;
      const config = discoveryConfigSchema.parse({
        advertiseAddress: '127.0.0.1',
        services: [{ name: 'shop', port, checks: [{ type: 'http', url: `http://127.0.0.1:${port}/`, interval: '200ms', failuresBeforeCritical: 2 }] }],
      });
      await feature.start(ctx, config);
      const registered = await eventually(async () => {
        const i = await find('shop', 'n3:shop');
        return i?.health === 'passing' ? i : undefined;
      }, 5000);
      expect(registered.checks[0].definition).toMatchObject({ interval: 200, timeout: 5000, failuresBeforeCritical: 2 });
      healthy = false;
      const failedAt = Date.now();
      await eventually(async () => (await find('shop', 'n3:shop'))?.health === 'critical', 5000);
      // Two failures at a 200 ms interval, plus delivery.
      expect(Date.now() - failedAt).toBeLessThan(2000);
      healthy = true;
      await eventually(async () => (await find('shop', 'n3:shop'))?.health === 'passing', 5000);
    });
  });
});

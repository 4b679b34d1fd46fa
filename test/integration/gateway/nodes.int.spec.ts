import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelloInput, NodeView } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from './harness.js';

/** Twelve machines: env prod/dev, zone a/b/c, two groups, two channels, two OS versions. */
function hello(i: number): HelloInput {
  const id = `node-${String(i).padStart(2, '0')}`;
  return {
    v: 1,
    nodeId: id,
    hostname: `${id}.example`,
    labels: { env: i % 3 === 0 ? 'dev' : 'prod', zone: ['a', 'b', 'c'][i % 3] },
    group: i < 6 ? 'edge' : 'core',
    channel: i % 2 === 0 ? 'stable' : 'beta',
    arch: 'x86_64',
    os: { name: 'fleetos', version: i < 4 ? '1.0.0' : '1.1.0' },
    agentVersion: '0.1.0',
  };
}

describe('gateway nodes and fleet routes against the real inventory', () => {
  let f: GatewayFixture;
  let inventory: RunningInventory | undefined;
  let agentBus: MessageBus;
  let operator: string;
  let viewer: string;
  const ids = Array.from({ length: 12 }, (_, i) => hello(i).nodeId);

  beforeAll(async () => {
    f = await startGatewayFixture();
    agentBus = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-agents', subjectRoot: f.root, service: 'test-agents' });
    operator = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'op', role: 'operator' }).expect(201)).body.token;
    viewer = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'ro', role: 'viewer' }).expect(201)).body.token;
  });

  afterAll(async () => {
    await agentBus?.drain();
    await inventory?.close();
    await f?.close();
  });

  it('is not ready before the inventory runs, and ready once it answers ping', async () => {
    const before = await f.http().get('/readyz').expect(503);
    expect(before.body.services).toEqual([expect.objectContaining({ name: 'inventory', ok: false })]);
    inventory = await startInventoryService({ ...f.env, LOG_LEVEL: 'error' });
    const after = await f.http().get('/readyz').expect(200);
    expect(after.body).toMatchObject({ ready: true, services: [{ name: 'inventory', ok: true }] });
  });

  it('lists nodes registered by real hello messages on NATS', async () => {
    for (let i = 0; i < 12; i++) await agentBus.request(agentBus.subjects.agent(hello(i).nodeId, 'hello'), hello(i));
    const res = await f.as(viewer).get('/api/v1/nodes').expect(200);
    expect(res.body.total).toBe(12);
    expect(res.body.items.map((n: NodeView) => n.id)).toEqual(ids);
    expect(res.body.items[0]).toMatchObject({ id: 'node-00', hostname: 'node-00.example', status: 'online', group: 'edge', labels: { env: 'dev', zone: 'a' } });
  });

  it('filters by selector, status, group, channel and version', async () => {
    const idsOf = async (query: string) => {
      const res = await f.as(viewer).get(`/api/v1/nodes?${query}`).expect(200);
      return res.body.items.map((n: NodeView) => n.id);
    };
    expect(await idsOf(`selector=${encodeURIComponent('env=prod,zone in (a,b)')}`)).toEqual(['node-01', 'node-04', 'node-07', 'node-10']);
    expect(await idsOf(`selector=${encodeURIComponent('env!=prod')}&group=edge`)).toEqual(['node-00', 'node-03']);
    expect(await idsOf('channel=beta&version=1.0.0')).toEqual(['node-01', 'node-03']);
    expect(await idsOf('status=online&group=core')).toHaveLength(6);
    expect(await idsOf('status=offline')).toEqual([]);
  });

  it('pages with limit and cursor without losing or repeating a node', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: NodeView[]; nextCursor: string | null } } = await f.as(viewer).get(`/api/v1/nodes?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...res.body.items.map((n: NodeView) => n.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('refuses a malformed selector at the edge', async () => {
    const res = await f.as(viewer).get(`/api/v1/nodes?selector=${encodeURIComponent('zone in (a')}`).expect(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.message).toMatch(/unbalanced/);
  });

  it('shows one node, and 404 for an unknown one', async () => {
    const res = await f.as(viewer).get('/api/v1/nodes/node-05').expect(200);
    expect(res.body).toMatchObject({ id: 'node-05', os: { name: 'fleetos', version: '1.1.0' }, channel: 'beta' });
    const missing = await f.as(viewer).get('/api/v1/nodes/no-such-node').expect(404);
    expect(missing.body.code).toBe('not_found');
    await f.as(viewer).get('/api/v1/nodes/bad.id').expect(400);
  });

  it('sets and removes labels and changes the group (operator)', async () => {
    const res = await f.as(operator).patch('/api/v1/nodes/node-01').send({ labels: { rack: 'r7', zone: null }, group: 'canary' }).expect(200);
    expect(res.body).toMatchObject({ id: 'node-01', group: 'canary', labels: { env: 'prod', rack: 'r7' } });
    expect(res.body.labels.zone).toBeUndefined();
    const again = await f.as(viewer).get('/api/v1/nodes?group=canary').expect(200);
    expect(again.body.items.map((n: NodeView) => n.id)).toEqual(['node-01']);
    const bad = await f.as(operator).patch('/api/v1/nodes/node-01').send({ labels: { 'bad key!': 'x' } }).expect(400);
    expect(bad.body.code).toBe('validation_failed');
    await f.as(operator).patch('/api/v1/nodes/no-such-node').send({ group: 'x' }).expect(404);
  });

  it('summarises the fleet', async () => {
    const res = await f.as(viewer).get('/api/v1/fleet/summary').expect(200);
    expect(res.body).toMatchObject({
      total: 12,
      byStatus: { online: 12 },
      byOsVersion: { '1.0.0': 4, '1.1.0': 8 },
      byChannel: { stable: 6, beta: 6 },
      byGroup: { edge: 5, core: 6, canary: 1 },
    });
  });

  it('decommissions a node (operator) and writes the audit row', async () => {
    await f.as(operator).delete('/api/v1/nodes/node-11').set('x-request-id', 'rm-node-11').expect(204);
    await f.as(viewer).get('/api/v1/nodes/node-11').expect(404);
    const list = await f.as(viewer).get('/api/v1/nodes').expect(200);
    expect(list.body.total).toBe(11);
    await f.as(operator).delete('/api/v1/nodes/node-11').expect(404);
    const audit = await eventually(async () => {
      const res = await f.as(ADMIN_TOKEN).get('/api/v1/audit?actor=op').expect(200);
      return res.body.items.find((r: { requestId: string }) => r.requestId === 'rm-node-11');
    }, 5000);
    expect(audit).toMatchObject({ method: 'DELETE', path: '/api/v1/nodes/node-11', status: 204, role: 'operator' });
  });

  it('answers 503 when the inventory goes away', async () => {
    await inventory!.close();
    inventory = undefined;
    const res = await f.as(viewer).get('/api/v1/nodes').expect(503);
    expect(res.body.code).toBe('unavailable');
    await f.http().get('/readyz').expect(503);
  });
});

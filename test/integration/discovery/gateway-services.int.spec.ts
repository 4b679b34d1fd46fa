import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from '../gateway/harness.js';
import { DiscoveryHarness } from './support.js';

/** `/api/v1/services` through the real gateway to the real discovery service. */
describe('gateway: /api/v1/services', () => {
  const h = new DiscoveryHarness();
  let f: GatewayFixture;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    await h.setUp(1);
    f = await startGatewayFixture({ FLEET_SELF_REGISTER: 'false' }, { root: h.root, databaseUrl: h.dbUrl });
    operator = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'op', role: 'operator' }).expect(201)).body.token;
    viewer = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'ro', role: 'viewer' }).expect(201)).body.token;
  });
  afterAll(async () => {
    await f?.close();
    await h.tearDown();
  });

  it('registers as operator, and refuses a viewer (403) and no token (401)', async () => {
    const body = { id: 'pay-1', name: 'payments', address: '10.2.0.1', port: 7000, tags: ['v1'], checks: [{ type: 'ttl', id: 'alive', ttl: '1m' }] };
    await f.as(viewer).post('/api/v1/services').send(body).expect(403);
    await f.http().post('/api/v1/services').send(body).expect(401);
    const res = await f.as(operator).post('/api/v1/services').send(body).expect(200);
    expect(res.body.instance).toMatchObject({ id: 'pay-1', health: 'critical' });
    expect(Number(res.headers['x-fleet-index'])).toBe(res.body.index);
    await f.as(operator).post('/api/v1/services').send({ ...body, checks: [{ type: 'http', url: 'http://x/' }] }).expect(400);
  });

  it('lists services with counts by state and the index header', async () => {
    await f.as(operator).post('/api/v1/services').send({ id: 'pay-2', name: 'payments', address: '10.2.0.2', port: 7000 }).expect(200);
    const res = await f.as(viewer).get('/api/v1/services').expect(200);
    expect(res.body.services).toEqual([expect.objectContaining({ name: 'payments', instances: 2, counts: { passing: 1, warning: 0, critical: 1 } })]);
    expect(Number(res.headers['x-fleet-index'])).toBe(res.body.index);
  });

  it('filters instances by passing, tag and state', async () => {
    const ids = async (qs: string) => (await f.as(viewer).get(`/api/v1/services/payments${qs}`).expect(200)).body.instances.map((i: { id: string }) => i.id);
    expect(await ids('')).toEqual(['pay-1', 'pay-2']);
    expect(await ids('?passing')).toEqual(['pay-2']);
    expect(await ids('?tag=v1')).toEqual(['pay-1']);
    expect(await ids('?state=critical,warning')).toEqual(['pay-1']);
    await f.as(viewer).get('/api/v1/services/payments?state=bogus').expect(400);
    await f.as(viewer).get('/api/v1/services/payments?wait=1h&index=1').expect(400);
    await f.as(viewer).get('/api/v1/services/Not_A_Name').expect(400);
  });

  it('answers a blocking query within a second of a TTL pass reported over HTTP', async () => {
    const first = await f.as(viewer).get('/api/v1/services/payments').expect(200);
    const index = Number(first.headers['x-fleet-index']);
    const started = Date.now();
    const blocked = f.as(viewer).get(`/api/v1/services/payments?index=${index}&wait=20s&passing`).then((r) => ({ r, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 200));
    const changedAt = Date.now();
    await f.as(operator).put('/api/v1/services/payments/instances/pay-1/checks/alive/pass').send({ output: 'ok' }).expect(200);
    const { r, at } = await blocked;
    expect(r.status).toBe(200);
    expect(at - changedAt).toBeLessThan(1000);
    expect(at - started).toBeGreaterThanOrEqual(200);
    expect(Number(r.headers['x-fleet-index'])).toBeGreaterThan(index);
    expect(r.body.instances.map((i: { id: string }) => i.id)).toEqual(['pay-1', 'pay-2']);
  });

  it('times a blocking query out with the same index when nothing changes', async () => {
    const index = Number((await f.as(viewer).get('/api/v1/services').expect(200)).headers['x-fleet-index']);
    const started = Date.now();
    const res = await f.as(viewer).get(`/api/v1/services?index=${index}&wait=300ms`).expect(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Number(res.headers['x-fleet-index'])).toBe(index);
  });

  it('shows one instance and deregisters it (operator), 404 afterwards', async () => {
    const one = await f.as(viewer).get('/api/v1/services/payments/instances/pay-2').expect(200);
    expect(one.body.instance.address).toBe('10.2.0.2');
    await f.as(viewer).get('/api/v1/services/other/instances/pay-2').expect(404);
    await f.as(viewer).delete('/api/v1/services/payments/instances/pay-2').expect(403);
    await f.as(operator).delete('/api/v1/services/payments/instances/pay-2').expect(204);
    await f.as(viewer).get('/api/v1/services/payments/instances/pay-2').expect(404);
    const all = await f.as(viewer).get('/api/v1/services/_instances?state=passing').expect(200);
    expect(all.body.instances.map((i: { id: string }) => i.id)).toEqual(['pay-1']);
  });

  it('answers 503 unavailable with the JSON error shape when discovery is down', async () => {
    await h.replicas[0].close();
    const res = await f.as(viewer).get('/api/v1/services/payments').expect(503);
    expect(res.body).toMatchObject({ code: 'unavailable', message: expect.stringContaining('discovery.instances') });
  });
});

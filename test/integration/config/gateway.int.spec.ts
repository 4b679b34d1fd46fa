import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from '../gateway/harness.js';
import { ConfigHarness, hello } from './support.js';
import { eventually } from '../../support/infra.js';

const profile = {
  ignition: {
    ignition: { version: '3.4.0' },
    storage: { files: [{ path: '/etc/fleet/agent.yaml', mode: 384, contents: { source: 'data:,group: {{group}}%0Atoken: {{token}}%0A' } }] },
  },
};

describe('gateway /api/v1/config, /api/v1/provisioning and /ignition over the real services', () => {
  const h = new ConfigHarness();
  let f: GatewayFixture;
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    await h.setUp();
    f = await startGatewayFixture({}, { root: h.root, databaseUrl: h.dbUrl });
    viewer = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'dash', role: 'viewer' }).expect(201)).body.token;
    operator = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'ci', role: 'operator' }).expect(201)).body.token;
    await h.sayHello(hello('gw-1', { group: 'web' }));
    await eventually(async () => (await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM config.nodes'))[0].n === 1);
  });
  afterAll(async () => {
    await f?.close();
    await h.tearDown();
  });

  it('stages, publishes with the caller as author, and shows history, diff, status and the effective bundle', async () => {
    await f.as(viewer).put('/api/v1/config/drafts').send({ file: { path: '/etc/motd', content: 'hi' } }).expect(403);
    await f.as(operator).put('/api/v1/config/drafts').send({ scope: { kind: 'group', group: 'web' }, file: { path: '/etc/motd', content: 'hi' } }).expect(200);
    const bad = await f.as(operator).put('/api/v1/config/drafts').send({ file: { path: '/root/x', content: 'x' } }).expect(400);
    expect(bad.body).toMatchObject({ code: 'validation_failed' });
    expect((await f.as(viewer).get('/api/v1/config/drafts').expect(200)).body.drafts).toHaveLength(1);

    const pub = await f.as(operator).post('/api/v1/config/publish').send({ message: 'motd', expectedRevision: 0 }).expect(201);
    expect(pub.body.revision).toMatchObject({ revision: 1, author: 'ci', message: 'motd' });
    const conflict = await f.as(operator).post('/api/v1/config/publish').send({ message: 'again', expectedRevision: 0 }).expect(409);
    expect(conflict.body.code).toBe('revision_conflict');

    expect((await f.as(viewer).get('/api/v1/config/revisions').expect(200)).body.revisions).toHaveLength(1);
    expect((await f.as(viewer).get('/api/v1/config/revisions/1').expect(200)).body.items).toHaveLength(1);
    expect((await f.as(viewer).get('/api/v1/config/diff?from=0&to=1').expect(200)).body.changes[0]).toMatchObject({ path: '/etc/motd', change: 'added' });
    expect((await f.as(viewer).get('/api/v1/config/items').expect(200)).body).toMatchObject({ revision: 1 });
    const eff = await f.as(viewer).get('/api/v1/config/nodes/gw-1/effective').expect(200);
    expect(eff.body.files.map((x: { path: string }) => x.path)).toEqual(['/etc/motd']);
    await eventually(async () => (await f.as(viewer).get('/api/v1/config/status/gw-1').expect(200)).body.desiredRevision === 1);
    expect((await f.as(viewer).get('/api/v1/config/status').expect(200)).body).toMatchObject({ latestRevision: 1, nodes: 1 });
    await f.as(viewer).get('/api/v1/config/status/nobody').expect(404);
    expect((await f.as(viewer).get('/api/v1/config/drift').expect(200)).body.nodes).toEqual([]);

    const rb = await f.as(operator).post('/api/v1/config/rollback').send({ to: 1 }).expect(201);
    expect(rb.body.revision).toMatchObject({ revision: 2, rolledBackFrom: 1 });
    await f.as(operator).post('/api/v1/config/canary/promote').expect(409);
  });

  it('manages schemas', async () => {
    await f.as(operator).put('/api/v1/config/schemas').send({ pattern: '/etc/*.json', schema: { type: 'object' } }).expect(200);
    expect((await f.as(viewer).get('/api/v1/config/schemas').expect(200)).body.schemas).toHaveLength(1);
    await f.as(operator).delete('/api/v1/config/schemas?pattern=/etc/*.json').expect(200);
    await f.as(operator).delete('/api/v1/config/schemas?pattern=/etc/*.json').expect(404);
  });

  it('serves provisioning to admins and rendered Ignition to machines without a token', async () => {
    await f.as(operator).put('/api/v1/provisioning/profiles/worker').send(profile).expect(403);
    const invalid = await f.as(ADMIN_TOKEN).put('/api/v1/provisioning/profiles/worker').send({ ignition: { ignition: { version: '3.0.0' } } }).expect(400);
    expect(invalid.body.message).toMatch(/3\.4\.0/);
    await f.as(ADMIN_TOKEN).put('/api/v1/provisioning/profiles/worker').send(profile).expect(200);
    await f.as(ADMIN_TOKEN).put('/api/v1/provisioning/groups/rack1').send({ profile: 'worker', selector: { labels: { rack: '1' } }, metadata: { token: 's3cr3t' } }).expect(200);
    expect((await f.as(operator).get('/api/v1/provisioning/groups').expect(200)).body.groups).toHaveLength(1);
    await f.as(viewer).get('/api/v1/provisioning/profiles').expect(403);

    const ign = await f.http().get('/ignition?mac=52:54:00:00:00:01&rack=1').expect(200);
    expect(ign.body.ignition.version).toBe('3.4.0');
    expect(ign.body.storage.files[0].contents.source).toBe('data:,group: rack1%0Atoken: s3cr3t%0A');
    const none = await f.http().get('/ignition?mac=52:54:00:00:00:02&rack=2').expect(404);
    expect(none.body.code).toBe('not_found');
  });

  it('rate-limits /ignition per client', async () => {
    let limited = 0;
    for (let i = 0; i < 40 && limited === 0; i++) {
      const res = await f.http().get('/ignition?rack=9');
      if (res.status === 429) limited++;
    }
    expect(limited).toBe(1);
  });
});

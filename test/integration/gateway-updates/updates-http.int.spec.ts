import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpdaterService, type RunningUpdater } from '../../../apps/updater/src/main.js';
import { startInventoryService, type RunningInventory } from '../../../apps/inventory/src/main.js';
import { MessageBus } from '#lib/messaging';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { generateSigningKeyPair, parsePrivateKey, signDigest } from '../../../apps/agent/src/features/updates/signing.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from '../gateway/harness.js';

const keys = generateSigningKeyPair();
const privateKey = parsePrivateKey(keys.privateKeyPem);

function release(version: string, extra: Record<string, unknown> = {}) {
  const sha256 = createHash('sha256').update(`image ${version}`).digest('hex');
  return {
    version,
    channel: 'stable',
    arch: 'x86_64',
    payload: { url: `https://images.example/${version}.raw`, sha256, size: 1000, signature: signDigest(sha256, privateKey) },
    ...extra,
  };
}

/** Exactly what Zincati's fleet_lock client sends: pretty JSON, no Content-Type, the protocol header. */
function zincatiLock(base: string, path: string, id: string, group: string, headers: Record<string, string> = { 'fleet-lock-protocol': 'true' }, body?: string) {
  const payload = body ?? JSON.stringify({ client_params: { id, group } }, null, 2);
  return new Promise<{ status: number; body: unknown; type: string | undefined }>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, type: res.headers['content-type'] });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('gateway update routes against the real updater', () => {
  let f: GatewayFixture;
  let updater: RunningUpdater;
  let inventory: RunningInventory;
  let agents: MessageBus;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    f = await startGatewayFixture();
    inventory = await startInventoryService({ ...f.env, LOG_LEVEL: 'error' });
    updater = await startUpdaterService({ ...f.env, LOG_LEVEL: 'error', UPDATER_DEFAULT_REBOOT_SLOTS: '1', UPDATER_TICK_MS: '200' });
    agents = await MessageBus.connect({ url: TEST_NATS_URL, name: 'test-agents', subjectRoot: f.root, service: 'test-agents' });
    operator = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'op', role: 'operator' }).expect(201)).body.token;
    viewer = (await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'ro', role: 'viewer' }).expect(201)).body.token;
  });

  afterAll(async () => {
    await agents?.drain();
    await updater?.close();
    await inventory?.close();
    await f?.close();
  });

  describe('/api/v1/releases', () => {
    it('creates, lists, shows and withdraws releases; viewers may only read', async () => {
      await f.as(viewer).post('/api/v1/releases').send(release('1.0.0')).expect(403);
      const a = (await f.as(operator).post('/api/v1/releases').send(release('1.0.0')).expect(201)).body;
      const b = (await f.as(operator).post('/api/v1/releases').send(release('1.1.0', { barrier: { reason: 'new partition layout' } })).expect(201)).body;
      await f.as(operator).post('/api/v1/releases').send(release('1.2.0')).expect(201);
      expect(a).toMatchObject({ version: '1.0.0', channel: 'stable', withdrawn: null });
      await f.as(operator).post('/api/v1/releases').send(release('1.0.0')).expect(409);
      const bad = await f.as(operator).post('/api/v1/releases').send({ ...release('1.3.0'), payload: { url: 'ftp://x' } }).expect(400);
      expect(bad.body.code).toBe('validation_failed');

      const list = await f.as(viewer).get('/api/v1/releases?channel=stable&limit=10').expect(200);
      expect(list.body.items.map((r: { version: string }) => r.version)).toEqual(['1.2.0', '1.1.0', '1.0.0']);
      expect((await f.as(viewer).get(`/api/v1/releases/${b.id}`).expect(200)).body.barrier).toEqual({ reason: 'new partition layout' });
      await f.as(viewer).get('/api/v1/releases/not-a-uuid').expect(400);

      const withdrawn = await f.as(operator).post(`/api/v1/releases/${a.id}/withdraw`).send({ reason: 'bad kernel' }).expect(200);
      expect(withdrawn.body.withdrawn).toMatchObject({ reason: 'bad kernel' });
      const visible = await f.as(viewer).get('/api/v1/releases').expect(200);
      expect(visible.body.items.map((r: { version: string }) => r.version)).not.toContain('1.0.0');
      const all = await f.as(viewer).get('/api/v1/releases?includeWithdrawn=true').expect(200);
      expect(all.body.items.map((r: { version: string }) => r.version)).toContain('1.0.0');
    });

    it('documents the update routes in the OpenAPI description', async () => {
      const doc = await f.http().get('/api/openapi.json').expect(200);
      const paths = Object.keys(doc.body.paths ?? {});
      for (const p of ['/api/v1/releases', '/api/v1/rollouts', '/api/v1/rollouts/{id}/nodes', '/api/v1/graph', '/api/v1/locks', '/v1/pre-reboot', '/v1/graph']) {
        expect(paths).toContain(p);
      }
    });
  });

  describe('/api/v1/nodes dead-end flags', () => {
    it('flags a node whose release is a dead end, in lists and in show', async () => {
      await f.as(operator).post('/api/v1/releases').send(release('0.9.0', { channel: 'edge', deadEnd: { reason: 'disk layout changed; reinstall' } })).expect(201);
      for (const [nodeId, version] of [['de-old', '0.9.0'], ['de-new', '1.1.0']]) {
        await agents.request(agents.subjects.agent(nodeId, 'hello'), {
          v: 1, nodeId, hostname: nodeId, group: 'misc', channel: 'edge', arch: 'x86_64',
          os: { name: 'fleetos', version }, agentVersion: '0.1.0',
        });
      }
      const shown = (await f.as(viewer).get('/api/v1/nodes/de-old').expect(200)).body;
      expect(shown.deadEnd).toEqual({ reason: 'disk layout changed; reinstall' });
      const listed = (await f.as(viewer).get('/api/v1/nodes?selector=&group=misc').expect(200)).body.items;
      const byId = Object.fromEntries(listed.map((n: { id: string; deadEnd: unknown }) => [n.id, n.deadEnd]));
      expect(byId['de-old']).toEqual({ reason: 'disk layout changed; reinstall' });
      expect(byId['de-new']).toBeNull();
    });
  });

  describe('/api/v1/rollouts', () => {
    it('creates a rollout over registered nodes, shows per-node states with filters, and takes operator actions', async () => {
      for (let i = 0; i < 6; i++) {
        const nodeId = `r-${i}`;
        await agents.request(agents.subjects.agent(nodeId, 'hello'), {
          v: 1, nodeId, hostname: nodeId, group: i < 3 ? 'web' : 'db', channel: 'stable', arch: 'x86_64',
          os: { name: 'fleetos', version: '1.1.0' }, agentVersion: '0.1.0',
        });
      }
      const rel = (await f.as(viewer).get('/api/v1/releases?channel=stable').expect(200)).body.items.find((r: { version: string }) => r.version === '1.2.0');
      const body = { releaseId: rel.id, target: { channel: 'stable' }, strategy: { type: 'waves', waves: [50, 100], soakSeconds: 3600 }, paused: true };
      await f.as(viewer).post('/api/v1/rollouts').send(body).expect(403);
      await f.as(operator).post('/api/v1/rollouts').send({ ...body, strategy: { type: 'waves', waves: [50, 40] } }).expect(400);
      const created = (await f.as(operator).post('/api/v1/rollouts').send(body).expect(201)).body;
      expect(created).toMatchObject({ version: '1.2.0', state: expect.any(String) });

      const nodes = await eventually(async () => {
        const res = await f.as(viewer).get(`/api/v1/rollouts/${created.id}/nodes?limit=100`).expect(200);
        return res.body.total === 6 ? res.body : undefined;
      });
      expect(nodes.items.map((n: { nodeId: string }) => n.nodeId)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
      const web = await f.as(viewer).get(`/api/v1/rollouts/${created.id}/nodes?group=web&state=pending,downloading`).expect(200);
      expect(web.body.items.every((n: { group: string }) => n.group === 'web')).toBe(true);
      await f.as(viewer).get(`/api/v1/rollouts/${created.id}/nodes?state=nonsense`).expect(400);

      const list = await f.as(viewer).get('/api/v1/rollouts?state=paused,running,pending').expect(200);
      expect(list.body.items.map((r: { id: string }) => r.id)).toContain(created.id);
      expect((await f.as(operator).post(`/api/v1/rollouts/${created.id}/resume`).expect(200)).body.state).toBe('running');
      expect((await f.as(operator).post(`/api/v1/rollouts/${created.id}/pause`).send({ reason: 'lunch' }).expect(200)).body.state).toBe('paused');
      expect((await f.as(operator).post(`/api/v1/rollouts/${created.id}/abort`).expect(200)).body.state).toBe('aborted');
      const again = await f.as(operator).post(`/api/v1/rollouts/${created.id}/resume`).expect(409);
      expect(again.body.code).toBe('conflict');
      expect((await f.as(viewer).get(`/api/v1/rollouts/${created.id}`).expect(200)).body.state).toBe('aborted');
    });
  });

  describe('Cincinnati GET /v1/graph', () => {
    it('answers the request Zincati sends with string metadata, barriers included', async () => {
      const res = await f
        .http()
        .get('/v1/graph')
        .query({
          basearch: 'x86_64',
          stream: 'stable',
          os_version: '1.1.0',
          os_checksum: 'abc',
          group: 'default',
          node_uuid: 'e0f3745b108f471cbd4883c6fbed8cdd',
          platform: 'metal',
          rollout_wariness: '0.500000',
        })
        .set('accept', 'application/json')
        .expect(200);
      const versions = res.body.nodes.map((n: { version: string }) => n.version);
      expect(versions).toEqual(expect.arrayContaining(['1.1.0', '1.2.0']));
      for (const node of res.body.nodes) {
        for (const value of Object.values(node.metadata)) expect(typeof value).toBe('string');
      }
      const barrier = res.body.nodes.find((n: { version: string }) => n.version === '1.1.0');
      expect(barrier.metadata['org.fedoraproject.coreos.updates.barrier']).toBe('true');
      const i110 = versions.indexOf('1.1.0');
      const i120 = versions.indexOf('1.2.0');
      expect(res.body.edges).toContainEqual([i110, i120]);
      // The authenticated twin returns the same graph.
      const rest = await f.as(viewer).get('/api/v1/graph?channel=stable&arch=x86_64').expect(200);
      expect(rest.body.nodes.map((n: { version: string }) => n.version).sort()).toEqual([...versions].sort());
    });

    it('answers 400 {kind,value} when basearch or stream is missing or bad', async () => {
      const missing = await f.http().get('/v1/graph?stream=stable').expect(400);
      expect(missing.body).toEqual({ kind: 'missing_params', value: expect.stringContaining('basearch') });
      const both = await f.http().get('/v1/graph').expect(400);
      expect(both.body.value).toContain('basearch, stream');
      const bad = await f.http().get('/v1/graph?basearch=x86_64&stream=stable&rollout_wariness=2').expect(400);
      expect(bad.body.kind).toBe('invalid_params');
    });
  });

  describe('FleetLock', () => {
    it('grants the group slot recursively to its holder and refuses a second machine with 409 lock_unavailable', async () => {
      const base = f.gateway.url;
      const first = await zincatiLock(base, '/v1/pre-reboot', 'e0f3745b108f471cbd4883c6fbed8cdd', 'workers');
      expect(first.status).toBe(200);
      expect((await zincatiLock(base, '/v1/pre-reboot', 'e0f3745b108f471cbd4883c6fbed8cdd', 'workers')).status).toBe(200);
      const second = await zincatiLock(base, '/v1/pre-reboot', 'aaaa745b108f471cbd4883c6fbed8cdd', 'workers');
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ kind: 'lock_unavailable', value: expect.any(String) });

      const locks = await f.as(viewer).get('/api/v1/locks?group=workers').expect(200);
      expect(locks.body.items[0]).toMatchObject({ group: 'workers', capacity: 1 });
      expect(locks.body.items[0].holders.map((h: { id: string }) => h.id)).toEqual(['e0f3745b108f471cbd4883c6fbed8cdd']);

      // Only the owner releases; a stranger's steady-state is a no-op.
      expect((await zincatiLock(base, '/v1/steady-state', 'aaaa745b108f471cbd4883c6fbed8cdd', 'workers')).status).toBe(200);
      expect((await zincatiLock(base, '/v1/pre-reboot', 'aaaa745b108f471cbd4883c6fbed8cdd', 'workers')).status).toBe(409);
      expect((await zincatiLock(base, '/v1/steady-state', 'e0f3745b108f471cbd4883c6fbed8cdd', 'workers')).status).toBe(200);
      expect((await zincatiLock(base, '/v1/pre-reboot', 'aaaa745b108f471cbd4883c6fbed8cdd', 'workers')).status).toBe(200);
    });

    it('accepts the body with a JSON or a form Content-Type too (curl -d)', async () => {
      const base = f.gateway.url;
      const json = await zincatiLock(base, '/v1/steady-state', 'x1', 'misc', { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' });
      expect(json.status).toBe(200);
      const form = await zincatiLock(base, '/v1/pre-reboot', 'x1', 'misc', {
        'fleet-lock-protocol': 'true',
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(200);
      expect((await zincatiLock(base, '/v1/steady-state', 'x1', 'misc')).status).toBe(200);
    });

    it('rejects a missing header and bad client_params with FleetLock error kinds', async () => {
      const base = f.gateway.url;
      const noHeader = await zincatiLock(base, '/v1/pre-reboot', 'n1', 'misc', {});
      expect(noHeader).toMatchObject({ status: 400, body: { kind: 'missing_header', value: expect.any(String) } });
      const wrongHeader = await zincatiLock(base, '/v1/pre-reboot', 'n1', 'misc', { 'fleet-lock-protocol': 'false' });
      expect(wrongHeader.body).toMatchObject({ kind: 'missing_header' });
      const noGroup = await zincatiLock(base, '/v1/pre-reboot', 'n1', '', { 'fleet-lock-protocol': 'true' });
      expect(noGroup).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
      const noParams = await zincatiLock(base, '/v1/pre-reboot', '', '', { 'fleet-lock-protocol': 'true' }, '{"id":"n1"}');
      expect(noParams).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
      const notJson = await zincatiLock(base, '/v1/pre-reboot', '', '', { 'fleet-lock-protocol': 'true', 'content-type': 'text/plain' }, 'hello');
      expect(notJson).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
      // Broken JSON under a JSON Content-Type fails in the body parser, before the route runs.
      const brokenJson = await zincatiLock(base, '/v1/pre-reboot', '', '', { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' }, '{"client_params":');
      expect(brokenJson).toMatchObject({ status: 400, body: { kind: 'invalid_request', value: expect.any(String) } });
    });

    it('refuses with 423 outside_maintenance_window when the group policy window is closed', async () => {
      const now = new Date();
      const closedStart = `${String((now.getUTCHours() + 12) % 24).padStart(2, '0')}:00`;
      await f.as(operator).put('/api/v1/locks/night/policy').send({ slots: 1, windows: [] }).expect(403);
      await f
        .as(ADMIN_TOKEN)
        .put('/api/v1/locks/night/policy')
        .send({ slots: 1, windows: [{ start: closedStart, lengthMinutes: 60, timeZone: 'UTC' }] })
        .expect(200);
      const res = await zincatiLock(f.gateway.url, '/v1/pre-reboot', 'n2', 'night');
      expect(res).toMatchObject({ status: 423, body: { kind: 'outside_maintenance_window' } });
    });

    it('lets an admin force-release a holder that will not come back', async () => {
      const base = f.gateway.url;
      expect((await zincatiLock(base, '/v1/pre-reboot', 'dead-machine', 'edge')).status).toBe(200);
      await f.as(operator).post('/api/v1/locks/edge/release').send({ id: 'dead-machine' }).expect(403);
      const res = await f.as(ADMIN_TOKEN).post('/api/v1/locks/edge/release').send({ id: 'dead-machine' }).expect(200);
      expect(res.body.released).toEqual(['dead-machine']);
      expect((await zincatiLock(base, '/v1/pre-reboot', 'other-machine', 'edge')).status).toBe(200);
    });

    it('is rate-limited per client, still answering in the FleetLock error shape', async () => {
      const answers = await Promise.all(Array.from({ length: 45 }, () => zincatiLock(f.gateway.url, '/v1/steady-state', 'flood', 'misc')));
      const limited = answers.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0].body).toMatchObject({ kind: 'rate_limited' });
    });
  });
});

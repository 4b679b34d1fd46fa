import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PG_URL, eventually } from '../../support/infra.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from './harness.js';

describe('gateway auth and tokens', () => {
  let f: GatewayFixture;
  let db: pg.Client;
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    f = await startGatewayFixture();
    db = new pg.Client({ connectionString: f.databaseUrl });
    await db.connect();
    const v = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'dash', role: 'viewer' }).expect(201);
    const o = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'ci', role: 'operator' }).expect(201);
    viewer = v.body.token;
    operator = o.body.token;
  });

  afterAll(async () => {
    await db?.end();
    await f?.close();
  });

  describe('401 and 403', () => {
    it('answers 401 without a token, with a malformed header and with an unknown token', async () => {
      const none = await f.http().get('/api/v1/tokens').expect(401);
      expect(none.body).toEqual({ code: 'unauthorized', message: expect.stringMatching(/missing bearer token/) });
      await f.http().get('/api/v1/nodes').set('authorization', `Basic ${ADMIN_TOKEN}`).expect(401);
      const bad = await f.as(`fct_${'A'.repeat(43)}`).get('/api/v1/nodes').expect(401);
      expect(bad.body.code).toBe('unauthorized');
    });

    it('answers 403 when the role is too low, naming the role needed', async () => {
      const res = await f.as(viewer).post('/api/v1/tokens').send({ name: 'x', role: 'admin' }).expect(403);
      expect(res.body).toEqual({ code: 'forbidden', message: expect.stringMatching(/needs the admin role; token "dash" is viewer/) });
      await f.as(operator).get('/api/v1/tokens').expect(403);
      await f.as(viewer).patch('/api/v1/nodes/n1').send({ group: 'x' }).expect(403);
      await f.as(viewer).delete('/api/v1/nodes/n1').expect(403);
    });

    it('lets a viewer read and an operator change fleet state (past auth, the inventory is absent here)', async () => {
      // 503 comes from the missing inventory service, i.e. after the guard let the request through.
      expect((await f.as(viewer).get('/api/v1/nodes')).status).toBe(503);
      expect((await f.as(operator).patch('/api/v1/nodes/n1').send({ group: 'edge' })).status).toBe(503);
    });
  });

  describe('token lifecycle', () => {
    it('shows the secret once and stores only its hash', async () => {
      const created = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'once', role: 'viewer' }).expect(201);
      expect(created.body).toMatchObject({ name: 'once', role: 'viewer', token: expect.stringMatching(/^fct_/), revokedAt: null });
      expect(created.body.prefix).toBe(created.body.token.slice(0, 12));
      const list = await f.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(200);
      expect(JSON.stringify(list.body)).not.toContain(created.body.token);
      expect(list.body.items.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['bootstrap-admin', 'dash', 'ci', 'once']));
      const rows = await db.query(`SELECT encode(hash, 'hex') AS hash FROM gateway.tokens WHERE id = $1`, [created.body.id]);
      expect(rows.rows[0].hash).toHaveLength(64);
      expect(JSON.stringify(rows.rows)).not.toContain(created.body.token.slice(4));
    });

    it('revokes a token, which then gets 401, and lists it only on request', async () => {
      const created = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'short-lived', role: 'operator' }).expect(201);
      await f.as(created.body.token).get('/api/v1/fleet/summary').expect(503);
      const revoked = await f.as(ADMIN_TOKEN).delete(`/api/v1/tokens/${created.body.id}`).expect(200);
      expect(revoked.body.revokedAt).not.toBeNull();
      await f.as(created.body.token).get('/api/v1/fleet/summary').expect(401);
      const live = await f.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(200);
      expect(live.body.items.some((t: { id: string }) => t.id === created.body.id)).toBe(false);
      const all = await f.as(ADMIN_TOKEN).get('/api/v1/tokens?includeRevoked=true').expect(200);
      expect(all.body.items.some((t: { id: string }) => t.id === created.body.id)).toBe(true);
      await f.as(ADMIN_TOKEN).delete(`/api/v1/tokens/${created.body.id}`).expect(404);
      // The name is free again once its token is revoked.
      await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'short-lived', role: 'viewer' }).expect(201);
    });

    it('refuses an expired token', async () => {
      const created = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'exp', role: 'viewer', expiresInSeconds: 60 }).expect(201);
      expect(Date.parse(created.body.expiresAt)).toBeGreaterThan(Date.now() + 50_000);
      await db.query(`UPDATE gateway.tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
      await f.as(created.body.token).get('/api/v1/fleet/summary').expect(401);
    });

    it('records last use in batches', async () => {
      await f.as(viewer).get('/api/v1/fleet/summary');
      const row = await eventually(async () => {
        const r = await db.query(`SELECT last_used_at FROM gateway.tokens WHERE name = 'dash' AND revoked_at IS NULL`);
        return r.rows[0]?.last_used_at as Date | null;
      }, 5000);
      expect(Date.now() - row.getTime()).toBeLessThan(10_000);
    });

    it('rejects bad token requests with field-level details, duplicates with 409', async () => {
      const bad = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: '', role: 'root', extra: 1 }).expect(400);
      expect(bad.body.code).toBe('validation_failed');
      expect(bad.body.details.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['name', 'role']));
      const reserved = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'bootstrap-admin', role: 'admin' }).expect(400);
      expect(reserved.body.message).toMatch(/reserved/);
      const dup = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'dash', role: 'viewer' }).expect(409);
      expect(dup.body.code).toBe('conflict');
      await f.as(ADMIN_TOKEN).delete('/api/v1/tokens/not-a-uuid').expect(400);
    });

    it('will not revoke the last live admin token', async () => {
      const list = await f.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(200);
      const admin = list.body.items.find((t: { name: string }) => t.name === 'bootstrap-admin');
      const res = await f.as(ADMIN_TOKEN).delete(`/api/v1/tokens/${admin.id}`).expect(409);
      expect(res.body.message).toMatch(/last live admin token/);
    });
  });

  describe('when the token store is unreachable', () => {
    it('answers 503 unavailable (not 500) and /readyz says the database is down, then recovers', async () => {
      const fresh = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').send({ name: 'fresh', role: 'viewer' }).expect(201);
      const dbName = new URL(f.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      try {
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`, [
          dbName,
          (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid,
        ]);
        const res = await f.as(fresh.body.token).get('/api/v1/fleet/summary').expect(503);
        expect(res.body).toEqual({ code: 'unavailable', message: expect.stringMatching(/token store/) });
        const ready = await f.http().get('/readyz').expect(503);
        expect(ready.body.database.connected).toBe(false);
      } finally {
        await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
        await admin.end();
      }
      await eventually(async () => (await f.http().get('/readyz')).body.database.connected === true, 5000);
      await f.as(fresh.body.token).get('/api/v1/tokens').expect(403);
    });
  });
});

describe('gateway bootstrap admin token', () => {
  it('generates and prints one admin token on first start only, and it works', async () => {
    const printed: string[] = [];
    const first = await startGatewayFixture({ FLEET_ADMIN_TOKEN: undefined }, { print: (l) => printed.push(l) });
    try {
      expect(printed).toHaveLength(1);
      const token = /bootstrap admin token \(shown once, store it now\): (fct_\S+)/.exec(printed[0])?.[1];
      expect(token).toBeDefined();
      await first.as(token!).get('/api/v1/tokens').expect(200);
      await first.gateway.close();
      // Second start on the same database: an admin token exists, nothing new is printed.
      const second = await startGatewayFixture({ FLEET_ADMIN_TOKEN: undefined }, { root: first.root, databaseUrl: first.databaseUrl, print: (l) => printed.push(l) });
      try {
        expect(printed).toHaveLength(1);
        await second.as(token!).get('/api/v1/tokens').expect(200);
      } finally {
        await second.gateway.close();
      }
    } finally {
      await first.close();
    }
  });

  it('makes FLEET_ADMIN_TOKEN a live admin token and replaces the previous bootstrap token when it changes', async () => {
    const f = await startGatewayFixture();
    try {
      await f.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(200);
      await f.gateway.close();
      const rotated = `fct_rotated-${'y'.repeat(40)}`;
      const again = await startGatewayFixture({ FLEET_ADMIN_TOKEN: rotated }, { root: f.root, databaseUrl: f.databaseUrl });
      try {
        await again.as(rotated).get('/api/v1/tokens').expect(200);
        await again.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(401);
      } finally {
        await again.gateway.close();
      }
    } finally {
      await f.close();
    }
  });
});

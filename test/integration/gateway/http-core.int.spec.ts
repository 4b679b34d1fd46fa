import { request as httpRequest } from 'node:http';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError } from '#contracts/common';
import { MessageBus } from '#lib/messaging';
import { JsonLogger } from '#lib/telemetry';
import { Public } from '../../../apps/gateway/src/auth/roles.js';
import { RateLimit } from '../../../apps/gateway/src/core/rate-limit.js';
import { registerErrorFormat } from '../../../apps/gateway/src/core/exception.filter.js';
import { AuditWriter } from '../../../apps/gateway/src/audit/audit-writer.js';
import { GATEWAY_DB } from '../../../apps/gateway/src/core/tokens.js';
import { TEST_NATS_URL, eventually } from '../../support/infra.js';
import { ADMIN_TOKEN, startGatewayFixture, type GatewayFixture } from './harness.js';

/** What a compatibility area (FleetLock, Cincinnati) looks like: public and rate-limited. */
@Controller('v1/compat-probe')
class CompatProbeController {
  @Post()
  @ApiOperation({ summary: 'probe' })
  @Public()
  @RateLimit({ bucket: 'probe', capacity: 3, refillPerSecond: 0.01 })
  take(): { ok: true } {
    return { ok: true };
  }

  @Get('other')
  @ApiOperation({ summary: 'probe' })
  @Public()
  @RateLimit({ bucket: 'probe-other', capacity: 1, refillPerSecond: 0.01 })
  other(): { ok: true } {
    return { ok: true };
  }
}

/** A protocol with its own error shape, as FleetLock's `{kind, value}`. */
@Controller('v1/kinded')
class KindedController {
  @Post()
  @ApiOperation({ summary: 'probe with its own error format' })
  @Public()
  take(@Body() body: unknown): unknown {
    if (!body || typeof body !== 'object' || !('id' in body)) throw new FleetError('validation_failed', 'id missing');
    return body;
  }
}

@Module({ controllers: [CompatProbeController, KindedController] })
class CompatProbeModule {
  constructor() {
    registerErrorFormat('/v1/kinded', ({ status, code, message }) => ({ status, body: { kind: code, value: message } }));
  }
}

/** Raw HTTP, for requests supertest would "fix" (no Content-Type). */
function rawPost(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('gateway HTTP core', () => {
  let f: GatewayFixture;
  let probe: MessageBus | undefined;

  beforeAll(async () => {
    f = await startGatewayFixture({ READY_SERVICES: 'probe-svc' }, { extraModules: [CompatProbeModule] });
  });

  afterAll(async () => {
    await probe?.drain();
    await f?.close();
  });

  describe('errors', () => {
    it('answers unknown routes with a JSON 404', async () => {
      const res = await f.as(ADMIN_TOKEN).get('/api/v1/nothing-here').expect(404);
      expect(res.body).toEqual({ code: 'not_found', message: 'no route for GET /api/v1/nothing-here' });
      expect(res.headers['content-type']).toMatch(/application\/json/);
      await f.http().post('/nope').expect(404);
    });

    it('refuses bodies over 1 MiB with 413 payload_too_large', async () => {
      const res = await f
        .as(ADMIN_TOKEN)
        .post('/api/v1/tokens')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ name: 'big', role: 'viewer', pad: 'x'.repeat(1024 * 1024) }))
        .expect(413);
      expect(res.body).toEqual({ code: 'payload_too_large', message: 'request body exceeds 1048576 bytes' });
    });

    it('answers malformed JSON with 400 bad_request', async () => {
      const res = await f.as(ADMIN_TOKEN).post('/api/v1/tokens').set('content-type', 'application/json').send('{"name": ').expect(400);
      expect(res.body.code).toBe('bad_request');
      expect(res.body.message).toMatch(/^malformed JSON body/);
    });

    it('answers validation failures with 400 and per-field details', async () => {
      const res = await f.as(ADMIN_TOKEN).get('/api/v1/nodes?limit=5000&status=asleep').expect(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['limit', 'status']);
    });

    it('answers 503 unavailable when the service behind a route does not answer', async () => {
      const res = await f.as(ADMIN_TOKEN).get('/api/v1/fleet/summary').expect(503);
      expect(res.body).toEqual({ code: 'unavailable', message: expect.stringMatching(/no service answers on .*\.svc\.inventory\.summary/) });
    });

    it("renders errors under a registered prefix in that protocol's own shape, even before routing", async () => {
      const handler = await f.http().post('/v1/kinded').send({ nope: 1 }).expect(400);
      expect(handler.body).toEqual({ kind: 'validation_failed', value: 'id missing' });
      const parser = await f.http().post('/v1/kinded').set('content-type', 'application/json').send('{"id":').expect(400);
      expect(parser.body).toEqual({ kind: 'bad_request', value: expect.stringMatching(/^malformed JSON body/) });
      const unmatched = await f.http().get('/v1/kinded/elsewhere').expect(404);
      expect(unmatched.body).toEqual({ kind: 'not_found', value: 'no route for GET /v1/kinded/elsewhere' });
      await f.http().post('/v1/kinded').send({ id: 'x' }).expect(201, { id: 'x' });
      // Other paths keep the standard shape.
      expect((await f.http().get('/v1/kindedness').expect(404)).body.code).toBe('not_found');
    });

    it('parses a JSON body sent without Content-Type (machines do that)', async () => {
      const res = await rawPost(f.gateway.url, '/api/v1/tokens', JSON.stringify({ name: 'no-ctype', role: 'viewer' }), {
        authorization: `Bearer ${ADMIN_TOKEN}`,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'no-ctype' });
    });
  });

  describe('request ids and access logs', () => {
    it('writes one JSON access-log line per request, carrying the request id', async () => {
      const lines: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      JsonLogger.setLevel('info');
      process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        lines.push(String(chunk));
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stdout.write;
      try {
        await f.as(ADMIN_TOKEN).get('/api/v1/tokens?includeRevoked=true').set('x-request-id', 'log-me').expect(200);
        await eventually(() => lines.some((l) => l.includes('"log-me"')), 2000);
      } finally {
        process.stdout.write = write;
        JsonLogger.setLevel('error');
      }
      const entry = JSON.parse(lines.find((l) => l.includes('"log-me"'))!);
      expect(entry).toMatchObject({
        level: 'info',
        service: 'gateway',
        msg: 'http request',
        request_id: 'log-me',
        method: 'GET',
        path: '/api/v1/tokens',
        route: '/api/v1/tokens',
        status: 200,
        actor: 'bootstrap-admin',
      });
      expect(entry.duration_ms).toEqual(expect.any(Number));
    });

    it('echoes a sane x-request-id and makes one up otherwise', async () => {
      const given = await f.http().get('/healthz').set('x-request-id', 'abc-123').expect(200);
      expect(given.headers['x-request-id']).toBe('abc-123');
      const made = await f.http().get('/healthz').set('x-request-id', 'bad id with spaces').expect(200);
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('audit log', () => {
    it('writes every mutation, refused ones included, and no reads', async () => {
      await f.as(ADMIN_TOKEN).post('/api/v1/tokens').set('x-request-id', 'audit-create').send({ name: 'audited', role: 'viewer' }).expect(201);
      await f.http().post('/api/v1/tokens').set('x-request-id', 'audit-anon').send({}).expect(401);
      await f.as(ADMIN_TOKEN).get('/api/v1/tokens').set('x-request-id', 'audit-read').expect(200);
      const entries = await eventually(async () => {
        const res = await f.as(ADMIN_TOKEN).get('/api/v1/audit?limit=1000').expect(200);
        const items = res.body.items as Array<{ requestId: string }>;
        return items.some((i) => i.requestId === 'audit-anon') && items.some((i) => i.requestId === 'audit-create') ? items : null;
      }, 5000);
      expect(entries.find((e) => e.requestId === 'audit-create')).toMatchObject({
        actor: 'bootstrap-admin',
        role: 'admin',
        method: 'POST',
        path: '/api/v1/tokens',
        status: 201,
      });
      expect(entries.find((e) => e.requestId === 'audit-anon')).toMatchObject({ actor: 'anonymous', role: null, status: 401, tokenId: null });
      expect(entries.some((e) => e.requestId === 'audit-read')).toBe(false);
    });

    it('pages newest first with a cursor and filters by actor', async () => {
      for (let i = 0; i < 3; i++) await f.http().delete(`/api/v1/tokens/page-${i}`).set('x-request-id', `page-${i}`).expect(401);
      await eventually(async () => {
        const res = await f.as(ADMIN_TOKEN).get('/api/v1/audit?actor=anonymous&limit=1000');
        return res.body.items.some((i: { requestId: string }) => i.requestId === 'page-2');
      }, 5000);
      const first = await f.as(ADMIN_TOKEN).get('/api/v1/audit?actor=anonymous&limit=2').expect(200);
      expect(first.body.items.map((i: { requestId: string }) => i.requestId)).toEqual(['page-2', 'page-1']);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await f.as(ADMIN_TOKEN).get(`/api/v1/audit?actor=anonymous&limit=2&cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body.items[0].requestId).toBe('page-0');
      await f.as(ADMIN_TOKEN).get('/api/v1/audit?cursor=abc').expect(400);
    });
  });

  describe('audit retention', () => {
    it('prunes rows older than AUDIT_RETENTION_DAYS and keeps the rest', async () => {
      await f.gateway.app.get(AuditWriter).flush();
      const db = f.gateway.app.get<DataSource>(GATEWAY_DB);
      await db.query(
        `INSERT INTO gateway.audit_log (at, actor, method, path, status, request_id)
         VALUES (now() - interval '400 days', 'old', 'POST', '/x', 200, 'ancient'), (now() - interval '300 days', 'old', 'POST', '/x', 200, 'recent')`,
      );
      const before = Number((await db.query(`SELECT count(*) AS n FROM gateway.audit_log`))[0].n);
      await expect(f.gateway.app.get(AuditWriter).prune()).resolves.toBe(1);
      const left = await db.query(`SELECT request_id FROM gateway.audit_log WHERE actor = 'old'`);
      expect(left.map((r: { request_id: string }) => r.request_id)).toEqual(['recent']);
      expect(Number((await db.query(`SELECT count(*) AS n FROM gateway.audit_log`))[0].n)).toBe(before - 1);
    });
  });

  describe('health and metrics', () => {
    it('is alive without a token', async () => {
      await f.http().get('/healthz').expect(200, { status: 'ok' });
    });

    it('is not ready until every required service answers ping, then ready', async () => {
      const before = await f.http().get('/readyz').expect(503);
      expect(before.body).toMatchObject({ ready: false, nats: { connected: true }, services: [{ name: 'probe-svc', ok: false, error: { code: 'unavailable' } }] });
      probe = await MessageBus.connect({ url: TEST_NATS_URL, name: 'probe', subjectRoot: f.root, service: 'probe-svc' });
      probe.servePing('9.9.9');
      await probe.nc.flush();
      const after = await f.http().get('/readyz').expect(200);
      expect(after.body).toMatchObject({ ready: true, services: [{ name: 'probe-svc', ok: true, version: '9.9.9' }] });
    });

    it('exposes request counts and latency by route and status', async () => {
      await f.as(ADMIN_TOKEN).get('/api/v1/tokens').expect(200);
      const res = await f.http().get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/text\/plain/);
      expect(res.text).toMatch(/fleet_http_requests_total\{method="GET",route="\/api\/v1\/tokens",status="200"[^}]*\} \d+/);
      expect(res.text).toMatch(/fleet_http_request_seconds_bucket\{[^}]*route="\/api\/v1\/tokens"/);
      expect(res.text).toMatch(/fleet_http_requests_total\{method="GET",route="unmatched",status="404"/);
    });
  });

  describe('rate limiting of public compatibility endpoints', () => {
    it('allows a burst per client, then answers 429 rate_limited with Retry-After, per bucket', async () => {
      for (let i = 0; i < 3; i++) await f.http().post('/v1/compat-probe').expect(201);
      const limited = await f.http().post('/v1/compat-probe').expect(429);
      expect(limited.body).toEqual({ code: 'rate_limited', message: expect.stringMatching(/too many requests/) });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await f.http().get('/v1/compat-probe/other').expect(200);
    });
  });

  describe('OpenAPI', () => {
    it('documents every route with a summary and the bearer scheme', async () => {
      const res = await f.http().get('/api/openapi.json').expect(200);
      const doc = res.body;
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      const operations = Object.entries(doc.paths as Record<string, Record<string, { summary?: string }>>).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ path, method, summary: op.summary })),
      );
      const core = ['/api/v1/nodes', '/api/v1/nodes/{id}', '/api/v1/fleet/summary', '/api/v1/tokens', '/api/v1/tokens/{id}', '/api/v1/audit', '/readyz', '/healthz', '/metrics'];
      for (const route of core) expect(operations.some((o) => o.path === route)).toBe(true);
      expect(operations.filter((o) => !o.summary)).toEqual([]);
      // The core's routes carry written summaries, not the `METHOD /path` stand-in.
      const standIns = operations.filter((o) => core.includes(o.path) && o.summary === `${o.method.toUpperCase()} ${o.path}`);
      expect(standIns).toEqual([]);
      expect(doc.paths['/api/v1/nodes'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['selector', 'status', 'group', 'channel', 'version', 'limit', 'cursor']),
      );
    });

    it('serves the browsable UI with its assets', async () => {
      const page = await f.http().get('/api/docs').expect(200);
      expect(page.text).toMatch(/swagger-ui/i);
      await f.http().get('/api/docs/swagger-ui-bundle.js').expect(200);
    });
  });
});

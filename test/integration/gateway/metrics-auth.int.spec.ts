import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, type GatewayFixture, startGatewayFixture } from './harness.js';

const METRICS_TOKEN = `scrape-${'k'.repeat(32)}`;
const WARNING = 'METRICS_TOKEN is not set: /metrics is served without authentication';

/** Starts a gateway with warnings logged, and returns the lines it wrote to stderr meanwhile. */
async function startCapturingWarnings(env: NodeJS.ProcessEnv): Promise<{ fixture: GatewayFixture; lines: string[] }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const fixture = await startGatewayFixture({ LOG_LEVEL: 'warn', ...env });
    return { fixture, lines };
  } finally {
    spy.mockRestore();
  }
}

describe('GET /metrics with METRICS_TOKEN set', () => {
  let f: GatewayFixture;
  let startLog: string[];

  beforeAll(async () => {
    const started = await startCapturingWarnings({ METRICS_TOKEN });
    f = started.fixture;
    startLog = started.lines;
  });
  afterAll(async () => {
    await f?.close();
  });

  it('does not warn at start', () => {
    expect(startLog.filter((l) => l.includes(WARNING))).toEqual([]);
  });

  it('answers 401 unauthorized without a token, with a WWW-Authenticate challenge', async () => {
    const res = await f.http().get('/metrics').expect(401);
    expect(res.body).toEqual({ code: 'unauthorized', message: expect.stringContaining('METRICS_TOKEN') });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.text).not.toContain('fleet_http_requests_total');
  });

  it('answers 401 to a wrong token, another scheme, and an API admin token (a separate credential)', async () => {
    await f.as(`${METRICS_TOKEN}x`).get('/metrics').expect(401);
    await f.as(METRICS_TOKEN.slice(0, -1)).get('/metrics').expect(401);
    await f.http().get('/metrics').set('authorization', `Basic ${METRICS_TOKEN}`).expect(401);
    await f.as(ADMIN_TOKEN).get('/metrics').expect(401);
  });

  it('serves Prometheus text to Authorization: Bearer <METRICS_TOKEN>', async () => {
    const res = await f.as(METRICS_TOKEN).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/fleet_http_requests_total\{method="GET",route="\/metrics",status="401"[^}]*\} [1-9]/);
  });

  it('leaves health public and API routes on API tokens', async () => {
    await f.http().get('/healthz').expect(200);
    await f.as(METRICS_TOKEN).get('/api/v1/nodes').expect(401);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let f: GatewayFixture;
  let startLog: string[];

  beforeAll(async () => {
    const started = await startCapturingWarnings({ METRICS_TOKEN: undefined });
    f = started.fixture;
    startLog = started.lines;
  });
  afterAll(async () => {
    await f?.close();
  });

  it('warns once at start that metrics are unauthenticated', () => {
    const warnings = startLog.filter((l) => l.includes(WARNING));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 'warn', service: 'gateway', msg: WARNING });
  });

  it('serves metrics to anyone, as before', async () => {
    const res = await f.http().get('/metrics').expect(200);
    expect(res.text).toContain('fleet_http_requests_total');
  });
});

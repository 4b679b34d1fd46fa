import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../support/processes.js';
import { InventoryHarness } from './support.js';

const METRICS_TOKEN = `scrape-${'i'.repeat(32)}`;
const WARNING = 'METRICS_TOKEN is not set: /metrics is served without authentication';

/** Starts the real inventory service with its metrics port on, returning what it logged meanwhile. */
async function startCapturingWarnings(env: Record<string, string>): Promise<{ h: InventoryHarness; port: number; lines: string[] }> {
  const port = await freePort();
  const h = new InventoryHarness({ METRICS_PORT: String(port), LOG_LEVEL: 'warn', ...env });
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await h.setUp();
  } finally {
    spy.mockRestore();
  }
  return { h, port, lines };
}

const get = (port: number, path: string, authorization?: string) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers: authorization ? { authorization } : {} });

describe('inventory metrics port with METRICS_TOKEN set', () => {
  let started: Awaited<ReturnType<typeof startCapturingWarnings>>;

  beforeAll(async () => {
    started = await startCapturingWarnings({ METRICS_TOKEN });
  });
  afterAll(async () => {
    await started?.h.tearDown();
  });

  it('does not warn at start', () => {
    expect(started.lines.filter((l) => l.includes(WARNING))).toEqual([]);
  });

  it('answers 401 with a Bearer challenge without a token, to a wrong token and to another scheme', async () => {
    for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}x`, `Bearer ${METRICS_TOKEN.slice(0, -1)}`, `Basic ${METRICS_TOKEN}`]) {
      const res = await get(started.port, '/metrics', authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ code: 'unauthorized', message: expect.stringContaining('METRICS_TOKEN') });
      expect(body).not.toContain('fleet_');
    }
  });

  it("serves the inventory's Prometheus text to Authorization: Bearer <METRICS_TOKEN>", async () => {
    const res = await get(started.port, '/metrics', `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await res.text()).toMatch(/service="inventory"/);
  });

  it('keeps /healthz public for liveness probes', async () => {
    const res = await get(started.port, '/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('inventory metrics port without METRICS_TOKEN', () => {
  let started: Awaited<ReturnType<typeof startCapturingWarnings>>;

  beforeAll(async () => {
    started = await startCapturingWarnings({});
  });
  afterAll(async () => {
    await started?.h.tearDown();
  });

  it('warns once at start that metrics are unauthenticated', () => {
    const warnings = started.lines.filter((l) => l.includes(WARNING));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 'warn', service: 'inventory', msg: WARNING });
  });

  it('serves metrics to anyone, as before', async () => {
    const res = await get(started.port, '/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/service="inventory"/);
  });
});

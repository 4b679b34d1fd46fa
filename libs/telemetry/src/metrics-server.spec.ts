import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogger } from './logger.js';
import { METRICS_TOKEN_UNSET_WARNING } from './metrics-auth.js';
import { startMetricsServer } from './metrics-server.js';
import { counter } from './metrics.js';

const TOKEN = `scrape-${'m'.repeat(24)}`;

/** Records warnings instead of writing them, to count the start-up warning. */
class RecordingLogger extends JsonLogger {
  readonly warnings: unknown[] = [];
  constructor() {
    super('test', 'metrics');
  }
  override warn(message: unknown): void {
    this.warnings.push(message);
  }
}

describe('startMetricsServer', () => {
  let server: Server | undefined;
  const url = (path: string) => `http://127.0.0.1:${(server!.address() as AddressInfo).port}${path}`;
  counter('fleet_metrics_server_spec_total', 'proves the registry is served').inc();

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  describe('with a token', () => {
    it('answers 401 with a Bearer challenge to a missing, wrong or differently-schemed credential', async () => {
      const logger = new RecordingLogger();
      server = await startMetricsServer(0, { token: TOKEN, logger });
      for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`]) {
        const res = await fetch(url('/metrics'), { headers: authorization ? { authorization } : {} });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
        const body = (await res.json()) as { code: string; message: string };
        expect(body).toEqual({ code: 'unauthorized', message: expect.stringContaining('METRICS_TOKEN') });
      }
      expect(logger.warnings).toEqual([]);
    });

    it('serves the registry to Authorization: Bearer <token>', async () => {
      server = await startMetricsServer(0, { token: TOKEN });
      const res = await fetch(url('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^fleet_metrics_server_spec_total 1$/m);
    });

    it('keeps /healthz public for liveness probes', async () => {
      let healthy = true;
      server = await startMetricsServer(0, { token: TOKEN, isHealthy: () => healthy });
      expect((await fetch(url('/healthz'))).status).toBe(200);
      healthy = false;
      expect((await fetch(url('/healthz'))).status).toBe(503);
    });
  });

  describe('without a token', () => {
    it('serves /metrics to anyone and warns once at start', async () => {
      const logger = new RecordingLogger();
      server = await startMetricsServer(0, { logger });
      expect(logger.warnings).toEqual([METRICS_TOKEN_UNSET_WARNING]);
      const res = await fetch(url('/metrics'));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('fleet_metrics_server_spec_total');
      await fetch(url('/metrics'));
      expect(logger.warnings).toHaveLength(1);
    });
  });
});

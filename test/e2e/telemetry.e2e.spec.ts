import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnNode, stopProcess } from '../support/processes.js';
import { eventually } from '../support/infra.js';

/**
 * The preload every service runs under (`node --import dist/libs/telemetry/src/otel.js`): spans
 * reach an OTLP/HTTP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set, W3C context is
 * propagated, and a process without its own signal handler still exits on SIGTERM.
 */
describe('OpenTelemetry preload', () => {
  let collector: Server;
  let port = 0;
  const received: string[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += String(c)));
      req.on('end', () => {
        received.push(`${req.url} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    port = (collector.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => collector.close(() => r())));

  it('exports spans to the collector and exits on SIGTERM', async () => {
    const script = `
      import { trace, propagation, context } from '@opentelemetry/api';
      const tracer = trace.getTracer('test');
      tracer.startActiveSpan('otel-preload-span', (span) => {
        const carrier = {};
        propagation.inject(context.active(), carrier);
        console.log(JSON.stringify(carrier));
        span.end();
      });
      setInterval(() => {}, 1000);
    `;
    const child = spawnNode(['--import', `${REPO}/dist/libs/telemetry/src/otel.js`, '--input-type=module', '-e', script], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: 'fleetcore-telemetry-test',
    });
    const line = await eventually(() => child.output().match(/\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}/), 20_000);
    expect(line).toBeTruthy();
    await stopProcess(child.child, 10_000);
    expect(child.child.signalCode).toBe('SIGTERM');
    const exported = received.find((r) => r.startsWith('/v1/traces'));
    expect(exported).toContain('otel-preload-span');
    expect(exported).toContain('fleetcore-telemetry-test');
  });
});

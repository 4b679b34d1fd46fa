import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHealthChecks } from './health.js';

let server: Server;
let base = '';
let healthyAfter = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') res.writeHead(200).end('ok');
    else if (req.url === '/late') res.writeHead(Date.now() >= healthyAfter ? 200 : 503).end();
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('post-boot health checks', () => {
  it('passes when every command and URL passes', async () => {
    const result = await runHealthChecks(
      [
        { name: 'true', command: 'true', timeoutSeconds: 5 },
        { name: 'api', url: `${base}/ok`, timeoutSeconds: 2 },
      ],
      { deadlineMs: 2000, intervalMs: 50 },
    );
    expect(result).toEqual({ ok: true });
  });

  it('retries until a late service comes up within the deadline', async () => {
    healthyAfter = Date.now() + 300;
    const result = await runHealthChecks([{ name: 'late', url: `${base}/late`, timeoutSeconds: 1 }], { deadlineMs: 3000, intervalMs: 50 });
    expect(result.ok).toBe(true);
  });

  it('names the failing check and its reason once the deadline passes', async () => {
    const started = Date.now();
    const result = await runHealthChecks(
      [
        { name: 'fine', command: 'exit 0', timeoutSeconds: 5 },
        { name: 'etcd', command: 'echo "etcd is down" >&2; exit 3', timeoutSeconds: 5 },
      ],
      { deadlineMs: 300, intervalMs: 50 },
    );
    expect(result).toMatchObject({ ok: false, name: 'etcd' });
    expect(!result.ok && result.reason).toMatch(/exited with 3: etcd is down/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('fails an HTTP check on an unexpected status', async () => {
    const result = await runHealthChecks([{ name: 'api', url: `${base}/broken`, timeoutSeconds: 1 }], { deadlineMs: 1000, intervalMs: 400 });
    expect(result).toMatchObject({ ok: false, name: 'api' });
    expect(!result.ok && result.reason).toMatch(/HTTP 500/);
  });
});

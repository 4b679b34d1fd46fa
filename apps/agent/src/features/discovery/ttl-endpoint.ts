import { createServer, type Server } from 'node:http';
import type { HealthState } from '#contracts/discovery';

const VERBS: Record<string, HealthState> = { pass: 'passing', warn: 'warning', fail: 'critical' };
const MAX_BODY = 4096;

/**
 * The local way for a service to report its TTL checks, like Consul's agent endpoint:
 * `PUT /v1/check/<serviceId>/<checkId>/pass|warn|fail`, the body (up to 4 KiB) being the output.
 * Listens on loopback by default; 204 when taken, 404 for an unknown TTL check.
 */
export async function startTtlEndpoint(
  listen: string,
  report: (serviceId: string, checkId: string, status: HealthState, output: string) => boolean,
): Promise<Server> {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(idx + 1));
  const server = createServer((req, res) => {
    const m = /^\/v1\/check\/([^/]+)\/([^/]+)\/(pass|warn|fail)$/.exec((req.url ?? '').split('?')[0]);
    const reply = (code: number, body?: string) => {
      res.writeHead(code, body ? { 'content-type': 'application/json' } : {});
      res.end(body);
    };
    if (!m) return reply(404, JSON.stringify({ code: 'not_found', message: 'use PUT /v1/check/<serviceId>/<checkId>/pass|warn|fail' }));
    if (req.method !== 'PUT' && req.method !== 'POST') return reply(405, JSON.stringify({ code: 'bad_request', message: 'use PUT' }));
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (body.length < MAX_BODY) body += chunk;
    });
    req.on('end', () => {
      const ok = report(decodeURIComponent(m[1]), decodeURIComponent(m[2]), VERBS[m[3]], body.slice(0, MAX_BODY));
      if (ok) reply(204);
      else reply(404, JSON.stringify({ code: 'not_found', message: `no TTL check ${m[2]} on service ${m[1]}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

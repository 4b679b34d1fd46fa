import { createServer, type Server } from 'node:http';
import type { JsonLogger } from './logger.js';
import { METRICS_AUTH_CHALLENGE, METRICS_TOKEN_UNSET_WARNING, METRICS_UNAUTHORIZED_MESSAGE, metricsTokenMatches } from './metrics-auth.js';
import { metricsRegistry } from './metrics.js';

export interface MetricsServerOptions {
  /** Backs `/healthz` (200 or 503); healthy by default. */
  isHealthy?: () => boolean;
  /** METRICS_TOKEN: when set, `/metrics` answers only `Authorization: Bearer <token>`. */
  token?: string;
  /** Where the one start-up warning goes when `token` is unset. */
  logger?: JsonLogger;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * A tiny HTTP listener for backend services (which speak only NATS otherwise): `/metrics` for
 * Prometheus, behind METRICS_TOKEN when set, and `/healthz` for orchestrators, always public
 * (a liveness probe carries no credentials).
 */
export async function startMetricsServer(port: number, options: MetricsServerOptions = {}): Promise<Server> {
  const { isHealthy = () => true, token, logger } = options;
  const server = createServer((req, res) => {
    const send = (reply: ReturnType<typeof json>) => {
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    };
    if (req.url === '/metrics') {
      if (token !== undefined && !metricsTokenMatches(token, req.headers.authorization)) {
        send(json(401, { code: 'unauthorized', message: METRICS_UNAUTHORIZED_MESSAGE }, { 'www-authenticate': METRICS_AUTH_CHALLENGE }));
        return;
      }
      metricsRegistry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metricsRegistry.contentType });
          res.end(body);
        })
        .catch((err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        });
      return;
    }
    if (req.url === '/healthz') {
      const ok = isHealthy();
      send(json(ok ? 200 : 503, { status: ok ? 'ok' : 'unhealthy' }));
      return;
    }
    send(json(404, { code: 'not_found', message: 'no such endpoint' }));
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  if (token === undefined) logger?.warn(METRICS_TOKEN_UNSET_WARNING);
  return server;
}

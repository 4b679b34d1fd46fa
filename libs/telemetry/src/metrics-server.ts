import { createServer, type Server } from 'node:http';
import { metricsRegistry } from './metrics.js';

/**
 * A tiny HTTP listener for backend services (which speak only NATS otherwise): `/metrics` for
 * Prometheus and `/healthz` for orchestrators.
 */
export async function startMetricsServer(port: number, isHealthy: () => boolean = () => true): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
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
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unhealthy' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'not_found', message: 'no such endpoint' }));
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return server;
}

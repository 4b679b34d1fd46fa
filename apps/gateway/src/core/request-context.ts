import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { JsonLogger, counter, histogram } from '#lib/telemetry';
import type { GatewayRequest } from './tokens.js';

const requests = counter('fleet_http_requests_total', 'HTTP requests served by the gateway', ['method', 'route', 'status']);
const latency = histogram('fleet_http_request_seconds', 'HTTP request latency at the gateway', ['method', 'route', 'status']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type FinishedRequest = { req: GatewayRequest; res: Response; route: string; durationMs: number };

/** The route template (`/api/v1/nodes/:id`) keeps metric cardinality bounded; unmatched requests share one label. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

/**
 * First middleware of the app: gives every request an id (the caller's `x-request-id` when it
 * is sane, else a new one, echoed back), and when the response is done writes one JSON access
 * log line, records metrics and hands the request to `onFinish` (the audit log).
 */
export function requestContext(logger: JsonLogger, onFinish: (done: FinishedRequest) => void) {
  return (request: Request, res: Response, next: NextFunction): void => {
    const req = request as GatewayRequest;
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.startedAt = process.hrtime.bigint();
    res.setHeader('x-request-id', req.requestId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - req.startedAt) / 1e6;
      const route = routeOf(req);
      const status = String(res.statusCode);
      requests.inc({ method: req.method, route, status });
      latency.observe({ method: req.method, route, status }, durationMs / 1000);
      logger.info('http request', {
        request_id: req.requestId,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        route,
        status: res.statusCode,
        duration_ms: Math.round(durationMs * 100) / 100,
        actor: req.principal?.name,
        ip: req.ip,
        ...(res.locals.errorCode ? { error_code: res.locals.errorCode } : {}),
      });
      try {
        onFinish({ req, res, route, durationMs });
      } catch (err) {
        logger.error('request finish hook failed', err as Error);
      }
    });
    next();
  };
}

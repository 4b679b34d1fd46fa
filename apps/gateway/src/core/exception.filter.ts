import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { JsonLogger } from '#lib/telemetry';
import type { ErrorBody } from '#contracts/common';
import { toHttpError } from './http-errors.js';
import type { GatewayRequest } from './tokens.js';

/** Turns the standard error into another wire format (status may change too). */
export type ErrorFormatter = (error: { status: number } & ErrorBody) => { status: number; body: unknown };

const formats: Array<{ prefix: string; format: ErrorFormatter }> = [];

/**
 * Compatibility protocols have their own error shapes (FleetLock and Cincinnati answer
 * `{"kind","value"}`). An area registers its shape for its path prefix, and every error under that
 * prefix, including ones raised before routing (malformed JSON, 413, unknown sub-paths, the rate
 * limiter), is rendered with it. Call once, e.g. from the area module's constructor.
 */
export function registerErrorFormat(pathPrefix: string, format: ErrorFormatter): void {
  const prefix = pathPrefix.replace(/\/+$/, '');
  const existing = formats.findIndex((f) => f.prefix === prefix);
  if (existing >= 0) formats.splice(existing, 1);
  formats.push({ prefix, format });
  // Longest prefix first.
  formats.sort((a, b) => b.prefix.length - a.prefix.length);
}

function formatFor(path: string): ErrorFormatter | undefined {
  return formats.find((f) => path === f.prefix || path.startsWith(`${f.prefix}/`))?.format;
}

/**
 * Global filter: every failure, from a route, a guard, a pipe, the body parser or the router's
 * 404, leaves as JSON `{ code, message, details? }` with the status its code maps to.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new JsonLogger('gateway', 'HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<GatewayRequest>();
    const { status, body, expose } = toHttpError(exception);
    if (!expose) {
      this.logger.error(`${req.method} ${req.originalUrl} failed`, exception as Error, { request_id: req.requestId });
    }
    res.locals.errorCode = body.code;
    if (res.headersSent) {
      res.end();
      return;
    }
    const format = formatFor(req.path);
    if (format) {
      const custom = format({ status, ...body });
      res.status(custom.status).json(custom.body);
      return;
    }
    res.status(status).json(body);
  }
}

import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { JsonLogger } from '#lib/telemetry';
import { toHttpError } from './http-errors.js';
import type { GatewayRequest } from './tokens.js';

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
    res.status(status).json(body);
  }
}

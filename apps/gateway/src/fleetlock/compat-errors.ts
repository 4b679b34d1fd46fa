import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { FleetError } from '#contracts/common';
import { JsonLogger } from '#lib/telemetry';
import type { ErrorFormatter } from '../core/exception.filter.js';

/**
 * The compatibility protocols (FleetLock, Cincinnati) answer errors as `{"kind","value"}`, the
 * shape Zincati decodes: `kind` is machine-friendly and from a small fixed set, `value` is for
 * humans. Routes throw `CompatError`; anything else (the rate limiter, an unreachable updater)
 * is mapped here, so these endpoints never answer in the REST API's `{code,message}` shape.
 */
export class CompatError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly value: string,
  ) {
    super(value);
    this.name = 'CompatError';
  }
}

export function toCompatError(err: unknown): CompatError {
  if (err instanceof CompatError) return err;
  if (err instanceof FleetError) {
    switch (err.code) {
      case 'rate_limited':
        return new CompatError(429, 'rate_limited', err.message);
      case 'lock_unavailable':
        return new CompatError(409, 'lock_unavailable', err.message);
      case 'outside_maintenance_window':
        return new CompatError(423, 'outside_maintenance_window', err.message);
      case 'not_found':
        return new CompatError(404, 'not_found', err.message);
      case 'unavailable':
      case 'timeout':
        return new CompatError(503, 'service_unavailable', 'the update service is unreachable; retry later');
      case 'bad_request':
      case 'validation_failed':
      case 'payload_too_large':
        return new CompatError(400, 'invalid_request', err.message);
      default:
        return new CompatError(500, 'internal_error', 'internal error; see the gateway log');
    }
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    return new CompatError(status, status === 404 ? 'not_found' : status < 500 ? 'invalid_request' : 'internal_error', err.message);
  }
  return new CompatError(500, 'internal_error', 'internal error; see the gateway log');
}

/**
 * The same mapping for errors raised before a compat route runs (the JSON body parser, the 413
 * limit, unknown sub-paths): registered with the gateway's global filter per path prefix.
 */
export const compatErrorFormat: ErrorFormatter = (error) => {
  const compat = toCompatError(new FleetError(error.code, error.message));
  return { status: compat.status, body: { kind: compat.kind, value: compat.value } };
};

@Catch()
export class CompatExceptionFilter implements ExceptionFilter {
  private readonly logger = new JsonLogger('gateway', 'Compat');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = toCompatError(exception);
    if (error.status >= 500 && !(exception instanceof FleetError)) this.logger.error('compat endpoint failed', exception as Error);
    res.locals.errorCode = error.kind;
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(error.status).json({ kind: error.kind, value: error.value });
  }
}

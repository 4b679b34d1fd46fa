import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FleetError } from '#contracts/common';
import { METRICS_AUTH_CHALLENGE, METRICS_UNAUTHORIZED_MESSAGE, metricsTokenMatches } from '#lib/telemetry';
import { GATEWAY_ENV } from '../core/tokens.js';
import type { GatewayEnv } from '../env.js';

/**
 * `/metrics` with `METRICS_TOKEN` set: only `Authorization: Bearer <METRICS_TOKEN>` may read it
 * (a scraper's static credential, separate from API tokens). Without it the route stays public,
 * as it always was; the gateway warns about that once at start. The check itself is the one every
 * backend's metrics port uses (`metricsTokenMatches` in libs/telemetry).
 */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  constructor(@Inject(GATEWAY_ENV) private readonly env: GatewayEnv) {}

  canActivate(context: ExecutionContext): boolean {
    const token = this.env.METRICS_TOKEN;
    if (token === undefined) return true;
    const http = context.switchToHttp();
    if (metricsTokenMatches(token, http.getRequest<Request>().headers.authorization)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', METRICS_AUTH_CHALLENGE);
    throw new FleetError('unauthorized', METRICS_UNAUTHORIZED_MESSAGE);
  }
}

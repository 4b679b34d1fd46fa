import { Controller, Get, Header, Inject, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { metricsRegistry } from '#lib/telemetry';
import { Public } from '../auth/roles.js';
import type { DataSource } from 'typeorm';
import { GATEWAY_DB, GATEWAY_ENV } from '../core/tokens.js';
import { ServiceClient } from '../core/service-client.js';
import type { GatewayEnv } from '../env.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';

export interface ServiceReadiness {
  name: string;
  ok: boolean;
  latencyMs: number;
  version?: string;
  uptimeSeconds?: number;
  error?: { code: string; message: string };
}

export interface Readiness {
  ready: boolean;
  nats: { connected: boolean };
  /** The gateway's own schema (tokens, audit log). */
  database: { connected: boolean; error?: string };
  services: ServiceReadiness[];
}

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    @Inject(ServiceClient) private readonly services: ServiceClient,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
    @Inject(GATEWAY_DB) private readonly db: DataSource,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the gateway process is up' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: NATS and the gateway database are reachable and every required service answers ping (503 otherwise)' })
  async readyz(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const readiness = await this.check();
    res.status(readiness.ready ? 200 : 503);
    return readiness;
  }

  @Get('metrics')
  @UseGuards(MetricsAuthGuard)
  @ApiOperation({ summary: 'Prometheus metrics (with METRICS_TOKEN set: Authorization: Bearer <METRICS_TOKEN>)' })
  @ApiResponse({ status: 401, description: 'METRICS_TOKEN is set and the request does not carry it' })
  @ApiProduces('text/plain')
  @Header('content-type', metricsRegistry.contentType)
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }

  async check(): Promise<Readiness> {
    const connected = this.services.natsConnected;
    const [database, services] = await Promise.all([this.checkDatabase(), this.checkServices(connected)]);
    return { ready: connected && database.connected && services.every((s) => s.ok), nats: { connected }, database, services };
  }

  private async checkDatabase(): Promise<Readiness['database']> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.env.READY_TIMEOUT_MS} ms`)), this.env.READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.db.query('SELECT 1'), timeout]);
      return { connected: true };
    } catch (err) {
      return { connected: false, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  private checkServices(connected: boolean): Promise<ServiceReadiness[]> {
    return Promise.all(
      this.env.READY_SERVICES.map(async (name): Promise<ServiceReadiness> => {
        const started = Date.now();
        const answer = connected
          ? await this.services.ping(name, this.env.READY_TIMEOUT_MS)
          : ({ ok: false, error: { code: 'unavailable', message: 'NATS is not connected' } } as const);
        const latencyMs = Date.now() - started;
        if (!answer.ok) return { name, ok: false, latencyMs, error: { code: answer.error.code, message: answer.error.message } };
        const info = (answer.data ?? {}) as { version?: string; uptimeSeconds?: number };
        return { name, ok: true, latencyMs, version: info.version, uptimeSeconds: info.uptimeSeconds };
      }),
    );
  }
}

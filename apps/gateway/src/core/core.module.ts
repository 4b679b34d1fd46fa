import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { AuthGuard } from '../auth/auth.guard.js';
import { AuditWriter } from '../audit/audit-writer.js';
import { TokensService } from '../tokens/tokens.service.js';
import type { GatewayEnv } from '../env.js';
import { GatewayExceptionFilter } from './exception.filter.js';
import { RateLimitGuard } from './rate-limit.js';
import { ServiceClient } from './service-client.js';
import { GATEWAY_DB, GATEWAY_ENV } from './tokens.js';

export interface CoreOptions {
  env: GatewayEnv;
  dataSource: DataSource;
}

/**
 * What every area module can inject without importing anything: `ServiceClient` (NATS calls to
 * platform services), `GATEWAY_ENV`, `GATEWAY_DB` (the gateway's own schema only), the token
 * store and the audit writer. Also installs the global guards (rate limit, then auth) and the
 * exception filter, so an area module only declares controllers.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: GATEWAY_ENV, useValue: options.env },
        { provide: GATEWAY_DB, useValue: options.dataSource },
        ServiceClient,
        TokensService,
        AuditWriter,
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
      ],
      exports: [GATEWAY_ENV, GATEWAY_DB, ServiceClient, TokensService, AuditWriter],
    };
  }
}

import type { Type } from '@nestjs/common';
import { AuditModule } from './audit/audit.module.js';
import { FleetModule } from './fleet/fleet.module.js';
import { HealthModule } from './health/health.module.js';
import { NodesModule } from './nodes/nodes.module.js';
import { TokensModule } from './tokens/tokens.module.js';
import { UpdatesAreaModule } from './releases/updates-area.module.js';
import { ServicesModule } from './services/services.module.js';
import { ConfigAreaModule } from './config/config-area.module.js';

/**
 * The gateway's feature areas, one Nest module each (`apps/gateway/src/<area>/<area>.module.ts`).
 * To add an area: create its folder with a module that declares its controllers (inject
 * `ServiceClient` to reach its service over NATS; use `@Roles`, `@Public`, `@RateLimit` and
 * `ZodPipe` from the core), then append the module here. Nothing else needs to change.
 */
export const AREA_MODULES: Type[] = [
  HealthModule,
  TokensModule,
  AuditModule,
  NodesModule,
  FleetModule,
  UpdatesAreaModule,
  ServicesModule,
  ConfigAreaModule,
];

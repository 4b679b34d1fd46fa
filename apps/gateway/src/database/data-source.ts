import type { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase, migrate } from '#lib/persistence';
import { AuditEntryEntity, TokenEntity } from './entities.js';
import { GatewayInit1732500000000 } from './migrations/1732500000000-gateway-init.js';

export const GATEWAY_SCHEMA = 'gateway';

export function createGatewayDataSource(url: string): DataSource {
  return createServiceDataSource({
    url,
    schema: GATEWAY_SCHEMA,
    entities: [TokenEntity, AuditEntryEntity],
    migrations: [GatewayInit1732500000000],
    poolSize: 5,
  });
}

/** Creates the database if needed and runs pending migrations; idempotent, replica-safe. */
export async function migrateGatewayDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createGatewayDataSource(databaseUrl);
  try {
    return await migrate(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

import type { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase, migrate } from '#lib/persistence';
import { discoveryEntities } from './entities.js';
import { DiscoveryInit1732600000000 } from './migrations/1732600000000-discovery-init.js';

export const DISCOVERY_SCHEMA = 'discovery';
export const discoveryMigrations = [DiscoveryInit1732600000000];

export function createDiscoveryDataSource(url: string, poolSize?: number): DataSource {
  return createServiceDataSource({
    url,
    schema: DISCOVERY_SCHEMA,
    entities: discoveryEntities,
    migrations: discoveryMigrations,
    poolSize,
  });
}

/** Creates the database if needed and runs pending migrations; idempotent, replica-safe. */
export async function migrateDiscoveryDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createDiscoveryDataSource(databaseUrl, 2);
  try {
    return await migrate(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

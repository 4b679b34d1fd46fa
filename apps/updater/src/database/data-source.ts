import type { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase, migrate } from '#lib/persistence';
import { UPDATER_ENTITIES } from './entities.js';
import { UpdaterInitial1764118800000 } from './migrations/1764118800000-updater-initial.js';
import { UpdaterLockWaiters1764122400000 } from './migrations/1764122400000-updater-lock-waiters.js';
import { UpdaterSlotFunction1764126000000 } from './migrations/1764126000000-updater-slot-function.js';
import { UpdaterBatchedSlots1764129600000 } from './migrations/1764129600000-updater-batched-slots.js';
import { UpdaterNodeDeadlines1764133200000 } from './migrations/1764133200000-updater-node-deadlines.js';

export const UPDATER_SCHEMA = 'updater';

export function createUpdaterDataSource(url: string, poolSize = 10): DataSource {
  return createServiceDataSource({
    url,
    schema: UPDATER_SCHEMA,
    entities: UPDATER_ENTITIES,
    migrations: [
      UpdaterInitial1764118800000,
      UpdaterLockWaiters1764122400000,
      UpdaterSlotFunction1764126000000,
      UpdaterBatchedSlots1764129600000,
      UpdaterNodeDeadlines1764133200000,
    ],
    poolSize,
    applicationName: 'fleetcore-updater',
  });
}

/** Creates the database if needed and runs pending migrations; idempotent and replica-safe. */
export async function migrateUpdaterDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createUpdaterDataSource(databaseUrl, 2);
  try {
    return await migrate(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

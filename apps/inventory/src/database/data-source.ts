import type { DataSource } from 'typeorm';
import { createServiceDataSource, ensureDatabase, migrate } from '#lib/persistence';
import { NodeEntity } from './node.entity.js';
import { OutboxDeadEntity } from './outbox-dead.entity.js';
import { OutboxEntity } from './outbox.entity.js';
import { InventoryNodes1764115200000 } from './migrations/1764115200000-inventory-nodes.js';
import { InventoryTransitionStamps1764122400000 } from './migrations/1764122400000-inventory-transition-stamps.js';
import { InventoryOutbox1764892800000 } from './migrations/1764892800000-inventory-outbox.js';
import { InventoryOutboxDead1765238400000 } from './migrations/1765238400000-inventory-outbox-dead.js';

export const INVENTORY_SCHEMA = 'inventory';

export function createInventoryDataSource(url: string, poolSize = 10): DataSource {
  return createServiceDataSource({
    url,
    schema: INVENTORY_SCHEMA,
    entities: [NodeEntity, OutboxEntity, OutboxDeadEntity],
    migrations: [
      InventoryNodes1764115200000,
      InventoryTransitionStamps1764122400000,
      InventoryOutbox1764892800000,
      InventoryOutboxDead1765238400000,
    ],
    poolSize,
    applicationName: 'fleetcore-inventory',
  });
}

/** Creates the database if needed and runs pending migrations; idempotent and replica-safe. */
export async function migrateInventoryDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createInventoryDataSource(databaseUrl, 2);
  try {
    return await migrate(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

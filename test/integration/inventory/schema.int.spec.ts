import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createInventoryDataSource, migrateInventoryDatabase } from '../../../apps/inventory/src/database/data-source.js';
import { createTestDatabase } from '../../support/infra.js';

const MIGRATIONS = [
  'InventoryNodes1764115200000',
  'InventoryTransitionStamps1764122400000',
  'InventoryOutbox1764892800000',
  'InventoryOutboxDead1765238400000',
];

describe('inventory database schema', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db.drop();
  });

  it('migrates idempotently, even from concurrent replicas', async () => {
    const runs = await Promise.all([migrateInventoryDatabase(db.url), migrateInventoryDatabase(db.url)]);
    expect(runs.flat()).toEqual(MIGRATIONS);
    await expect(migrateInventoryDatabase(db.url)).resolves.toEqual([]);
  });

  it('matches the entity: TypeORM would generate no change', async () => {
    ds = await createInventoryDataSource(db.url, 2).initialize();
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('reverts cleanly with down', async () => {
    const outboxColumns = async () =>
      (await ds.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'inventory' AND table_name = 'outbox'`)).map(
        (c: { column_name: string }) => c.column_name,
      );
    expect(await outboxColumns()).toContain('attempts');
    await ds.undoLastMigration();
    const [{ dead }] = await ds.query(`SELECT to_regclass('inventory.outbox_dead') IS NOT NULL AS dead`);
    expect(dead).toBe(false);
    expect(await outboxColumns()).not.toContain('attempts');
    await ds.undoLastMigration();
    const [{ outbox }] = await ds.query(`SELECT to_regclass('inventory.outbox') IS NOT NULL AS outbox`);
    expect(outbox).toBe(false);
    await ds.undoLastMigration();
    const columns = await ds.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'inventory' AND table_name = 'nodes'`);
    expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain('online_since');
    await ds.undoLastMigration();
    const [{ exists }] = await ds.query(`SELECT to_regclass('inventory.nodes') IS NOT NULL AS exists`);
    expect(exists).toBe(false);
    await expect(migrateInventoryDatabase(db.url)).resolves.toEqual(MIGRATIONS);
  });
});

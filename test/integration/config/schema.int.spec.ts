import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createConfigDataSource, migrateConfigDatabase } from '../../../apps/config/src/database/data-source.js';
import { createTestDatabase } from '../../support/infra.js';

const MIGRATIONS = ['ConfigInit1764201600000', 'ConfigNodeReports1764806400000', 'ConfigNudges1764810000000', 'ConfigDeploymentGeneration1764813600000', 'ConfigNodesKnownSince1764817200000'];

describe('config database schema', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await createConfigDataSource(db.url, 2).initialize();
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db.drop();
  });

  it('moves what nodes reported into node_reports, and keeps it on the way back down', async () => {
    await ds.query('CREATE SCHEMA IF NOT EXISTS "config"');
    // Only the first migration, with a node that has acknowledged and one that never reported.
    await ds.runMigrations({ transaction: 'each' });
    for (let i = 1; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
    await ds.query(`INSERT INTO config.nodes (node_id, "group", applied_revision, applied_hash, last_ok, last_revision, last_hash, last_files, last_at, drift)
      VALUES ('n1', 'default', 3, 'h3', true, 3, 'h3', '[]', now(), '[{"path":"/etc/a"}]'), ('n2', 'default', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '[]')`);

    await expect(migrateConfigDatabase(db.url)).resolves.toEqual(MIGRATIONS.slice(1));
    expect(await ds.query('SELECT node_id, applied_revision, applied_hash, drift FROM config.node_reports')).toEqual([
      { node_id: 'n1', applied_revision: 3, applied_hash: 'h3', drift: [{ path: '/etc/a' }] },
    ]);
    const columns = await ds.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'config' AND table_name = 'nodes'`);
    expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain('applied_revision');

    for (let i = 1; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
    expect(await ds.query('SELECT node_id, applied_revision, last_ok FROM config.nodes ORDER BY node_id')).toEqual([
      { node_id: 'n1', applied_revision: 3, last_ok: true },
      { node_id: 'n2', applied_revision: null, last_ok: null },
    ]);
    await expect(migrateConfigDatabase(db.url)).resolves.toEqual(MIGRATIONS.slice(1));
  });

  it('is idempotent, even from concurrent replicas', async () => {
    const fresh = await createTestDatabase();
    try {
      const runs = await Promise.all([migrateConfigDatabase(fresh.url), migrateConfigDatabase(fresh.url)]);
      expect(runs.flat()).toEqual(MIGRATIONS);
      await expect(migrateConfigDatabase(fresh.url)).resolves.toEqual([]);
    } finally {
      await fresh.drop();
    }
  });
});

import type { DataSource } from 'typeorm';
import type pg from 'pg';
import { createServiceDataSource, ensureDatabase, migrate } from '#lib/persistence';
import { CONFIG_ENTITIES } from './entities.js';
import { ConfigInit1764201600000 } from './migrations/1764201600000-config-init.js';
import { ConfigNodeReports1764806400000 } from './migrations/1764806400000-config-node-reports.js';
import { ConfigNudges1764810000000 } from './migrations/1764810000000-config-nudges.js';
import { ConfigDeploymentGeneration1764813600000 } from './migrations/1764813600000-config-deployment-generation.js';
import { ConfigNodesKnownSince1764817200000 } from './migrations/1764817200000-config-nodes-known-since.js';

export const CONFIG_SCHEMA = 'config';

export function createConfigDataSource(url: string, poolSize = 10): DataSource {
  return createServiceDataSource({
    url,
    schema: CONFIG_SCHEMA,
    entities: CONFIG_ENTITIES,
    migrations: [ConfigInit1764201600000, ConfigNodeReports1764806400000, ConfigNudges1764810000000, ConfigDeploymentGeneration1764813600000, ConfigNodesKnownSince1764817200000],
    poolSize,
    applicationName: 'fleetcore-config',
  });
}

/** Creates the database if needed and runs pending migrations; idempotent and replica-safe. */
export async function migrateConfigDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const ds = createConfigDataSource(databaseUrl, 2);
  try {
    return await migrate(ds);
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** Plain parameterised SQL on the DataSource's pg pool, with a transaction helper. */
export class Db {
  constructor(readonly pool: pg.Pool) {}

  static of(dataSource: DataSource): Db {
    return new Db((dataSource.driver as unknown as { master: pg.Pool }).master);
  }

  async query<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }

  async tx<T>(fn: (q: <R = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(async <R>(text: string, values: unknown[] = []) => (await client.query(text, values)).rows as R[]);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

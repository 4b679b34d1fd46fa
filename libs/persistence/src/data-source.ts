import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import pg from 'pg';

export interface ServiceDataSourceOptions {
  url: string;
  /** Each service owns one PostgreSQL schema; no service reads another's. */
  schema: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  poolSize?: number;
  /** Tag on connections, visible in pg_stat_activity. */
  applicationName?: string;
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    applicationName: options.applicationName ?? `fleetcore-${options.schema}`,
    extra: { max: options.poolSize ?? 10 },
  });
}

/**
 * Creates the service's schema (TypeORM keeps its migrations table inside it, so the schema must
 * exist first) and runs pending migrations. Safe to run concurrently from several replicas: an
 * advisory lock serialises them.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const schema = (dataSource.options as { schema?: string }).schema ?? 'public';
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`fleetcore:migrate:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`fleetcore:migrate:${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

/** Creates the database named in `url` when it does not exist (first start, tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
    }
  } finally {
    await client.end();
  }
}

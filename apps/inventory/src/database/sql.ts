import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { FleetError } from '#contracts/common';

/** SQLSTATE classes and socket errors that mean "the database is not reachable right now". */
function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && /^(08|53|57P0)/.test(e.code)) return true;
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'ETIMEDOUT') return true;
  return /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end/i.test(e?.message ?? '');
}

/**
 * Plain parameterised SQL on the DataSource's own pg pool. The inventory's queries are hand-written
 * (jsonb containment, unnest batches, grouping sets); this returns the rows of any statement
 * uniformly, where `DataSource.query` changes its result shape for UPDATE and DELETE. An outage
 * becomes a typed `unavailable` error, so callers get a clear answer and logs stay one line per cause.
 */
export class Sql {
  /** `pool` is absent inside a transaction: its statements run on `runner`, the transaction's connection. */
  private constructor(
    private readonly runner: pg.Pool | pg.PoolClient,
    private readonly pool?: pg.Pool,
  ) {}

  static of(dataSource: DataSource): Sql {
    const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
    return new Sql(pool, pool);
  }

  async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    try {
      const result = await this.runner.query(text, values);
      return result.rows as T[];
    } catch (err) {
      throw typed(err);
    }
  }

  /**
   * Runs `work` in one transaction on one pooled connection: committed when it resolves, rolled
   * back when it throws. A connection that failed is discarded rather than returned to the pool.
   */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    if (!this.pool) throw new Error('nested transactions are not supported');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw typed(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(new Sql(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      const error = typed(err);
      if (error instanceof FleetError && error.code === 'unavailable') broken = true;
      else await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

function typed(err: unknown): unknown {
  if (err instanceof FleetError) return err;
  if (isUnavailable(err)) return new FleetError('unavailable', `database unavailable: ${(err as Error).message}`);
  return err;
}

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
  constructor(private readonly pool: pg.Pool) {}

  static of(dataSource: DataSource): Sql {
    return new Sql((dataSource.driver as unknown as { master: pg.Pool }).master);
  }

  async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    try {
      const result = await this.pool.query(text, values);
      return result.rows as T[];
    } catch (err) {
      if (isUnavailable(err)) throw new FleetError('unavailable', `database unavailable: ${(err as Error).message}`);
      throw err;
    }
  }
}

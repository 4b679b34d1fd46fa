import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Plain parameterised SQL on the DataSource's own pg pool. The inventory's queries are hand-written
 * (jsonb containment, unnest batches, grouping sets); this returns the rows of any statement
 * uniformly, where `DataSource.query` changes its result shape for UPDATE and DELETE.
 */
export class Sql {
  constructor(private readonly pool: pg.Pool) {}

  static of(dataSource: DataSource): Sql {
    return new Sql((dataSource.driver as unknown as { master: pg.Pool }).master);
  }

  async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(text, values);
    return result.rows as T[];
  }
}

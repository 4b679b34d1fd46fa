import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { CONFIG_EVENTS } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { ConfigEvents } from '../events.js';
import { schemaProblems, type JsonSchema } from '../logic/json-schema.js';
import type { RegisteredSchema } from '../logic/validate.js';

/** JSON Schemas per path pattern; checked against matching files at every publish. */
@Injectable()
export class SchemaService {
  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(ConfigEvents) private readonly events: ConfigEvents,
  ) {}

  async put(pattern: string, schema: JsonSchema): Promise<RegisteredSchema & { updatedAt: string }> {
    const problems = schemaProblems(schema);
    if (problems.length) throw new FleetError('validation_failed', `schema for ${pattern} is not supported: ${problems.join('; ')}`, { problems });
    const [row] = await this.db.query<{ pattern: string; schema: JsonSchema; updated_at: Date }>(
      `INSERT INTO "config"."schemas" ("pattern", "schema", "updated_at") VALUES ($1, $2::jsonb, now())
       ON CONFLICT ("pattern") DO UPDATE SET "schema" = EXCLUDED."schema", "updated_at" = now() RETURNING *`,
      [pattern, JSON.stringify(schema)],
    );
    void this.events.emit(CONFIG_EVENTS.schemaChanged, { pattern, deleted: false });
    return { pattern: row.pattern, schema: row.schema, updatedAt: row.updated_at.toISOString() };
  }

  async list(): Promise<Array<RegisteredSchema & { updatedAt: string }>> {
    const rows = await this.db.query<{ pattern: string; schema: JsonSchema; updated_at: Date }>('SELECT * FROM "config"."schemas" ORDER BY "pattern"');
    return rows.map((r) => ({ pattern: r.pattern, schema: r.schema, updatedAt: r.updated_at.toISOString() }));
  }

  async delete(pattern: string): Promise<{ deleted: boolean }> {
    const rows = await this.db.query('DELETE FROM "config"."schemas" WHERE "pattern" = $1 RETURNING 1', [pattern]);
    if (rows.length === 0) throw new FleetError('not_found', `no schema registered for ${pattern}`);
    void this.events.emit(CONFIG_EVENTS.schemaChanged, { pattern, deleted: true });
    return { deleted: true };
  }
}

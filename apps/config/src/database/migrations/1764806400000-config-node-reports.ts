import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What agents report (applied state, last apply result, drift) moves out of `config.nodes` into
 * `config.node_reports`. The two are written by different paths at the same moments: a publish
 * rewrites every node's desired row while the first acks for the same nodes are being stored.
 * In one table those statements locked the same rows in different orders and deadlocked (seen at
 * 10,000 nodes); in two tables they never wait on each other, and an ack no longer copies the
 * node's labels into a new row version.
 */
export class ConfigNodeReports1764806400000 implements MigrationInterface {
  name = 'ConfigNodeReports1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "config"."node_reports" (
        "node_id" text PRIMARY KEY REFERENCES "config"."nodes" ("node_id") ON DELETE CASCADE,
        "applied_revision" integer,
        "applied_hash" text,
        "last_ok" boolean,
        "last_revision" integer,
        "last_hash" text,
        "last_files" jsonb,
        "last_at" timestamptz,
        "drift" jsonb NOT NULL DEFAULT '[]'::jsonb,
        "drift_at" timestamptz
      ) WITH (fillfactor = 80)`);
    await q.query(`
      INSERT INTO "config"."node_reports"
        ("node_id", "applied_revision", "applied_hash", "last_ok", "last_revision", "last_hash", "last_files", "last_at", "drift", "drift_at")
      SELECT "node_id", "applied_revision", "applied_hash", "last_ok", "last_revision", "last_hash", "last_files", "last_at", "drift", "drift_at"
      FROM "config"."nodes"
      WHERE "last_at" IS NOT NULL OR "drift_at" IS NOT NULL`);
    // No index on applied_revision: nothing looks rows up by it (status scans), and without one
    // every ack during a fleet-wide publish is a HOT update.
    await q.query(`DROP INDEX "config"."nodes_applied_revision_idx"`);
    for (const c of ['applied_revision', 'applied_hash', 'last_ok', 'last_revision', 'last_hash', 'last_files', 'last_at', 'drift', 'drift_at']) {
      await q.query(`ALTER TABLE "config"."nodes" DROP COLUMN "${c}"`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "config"."nodes"
        ADD COLUMN "applied_revision" integer,
        ADD COLUMN "applied_hash" text,
        ADD COLUMN "last_ok" boolean,
        ADD COLUMN "last_revision" integer,
        ADD COLUMN "last_hash" text,
        ADD COLUMN "last_files" jsonb,
        ADD COLUMN "last_at" timestamptz,
        ADD COLUMN "drift" jsonb NOT NULL DEFAULT '[]'::jsonb,
        ADD COLUMN "drift_at" timestamptz`);
    await q.query(`
      UPDATE "config"."nodes" n SET
        "applied_revision" = r."applied_revision", "applied_hash" = r."applied_hash", "last_ok" = r."last_ok",
        "last_revision" = r."last_revision", "last_hash" = r."last_hash", "last_files" = r."last_files",
        "last_at" = r."last_at", "drift" = r."drift", "drift_at" = r."drift_at"
      FROM "config"."node_reports" r WHERE r."node_id" = n."node_id"`);
    await q.query(`CREATE INDEX "nodes_applied_revision_idx" ON "config"."nodes" ("applied_revision")`);
    await q.query(`DROP TABLE "config"."node_reports"`);
  }
}

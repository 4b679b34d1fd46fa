import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DiscoveryInit1732600000000 implements MigrationInterface {
  name = 'DiscoveryInit1732600000000';

  async up(q: QueryRunner): Promise<void> {
    // Every membership or health change takes the next value: the index blocking queries use.
    await q.query(`CREATE SEQUENCE "discovery"."change_index" AS bigint START 1`);
    await q.query(`
      CREATE TABLE "discovery"."instances" (
        "id" text PRIMARY KEY,
        "service" text NOT NULL,
        "node_id" text,
        "source" text NOT NULL,
        "address" text NOT NULL,
        "port" int NOT NULL,
        "tags" jsonb NOT NULL DEFAULT '[]',
        "meta" jsonb NOT NULL DEFAULT '{}',
        "group" text NOT NULL,
        "checks" jsonb NOT NULL DEFAULT '[]',
        "node_offline" boolean NOT NULL DEFAULT false,
        "health" text NOT NULL,
        "critical_since" timestamptz,
        "deregister_after_ms" bigint,
        "reap_at" timestamptz,
        "ttl_deadline" timestamptz,
        "definition_hash" text NOT NULL,
        "create_index" bigint NOT NULL,
        "modify_index" bigint NOT NULL,
        "registered_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL,
        CONSTRAINT "discovery_instances_health_chk" CHECK ("health" IN ('passing','warning','critical')),
        CONSTRAINT "discovery_instances_source_chk" CHECK ("source" IN ('agent','api','platform'))
      )`);
    await q.query(`CREATE INDEX "discovery_instances_service_idx" ON "discovery"."instances" ("service")`);
    await q.query(`CREATE INDEX "discovery_instances_node_idx" ON "discovery"."instances" ("node_id")`);
    await q.query(
      `CREATE INDEX "discovery_instances_reap_at_idx" ON "discovery"."instances" ("reap_at") WHERE "reap_at" IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX "discovery_instances_ttl_deadline_idx" ON "discovery"."instances" ("ttl_deadline") WHERE "ttl_deadline" IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE "discovery"."services" (
        "name" text PRIMARY KEY,
        "modify_index" bigint NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "discovery"."services"`);
    await q.query(`DROP TABLE IF EXISTS "discovery"."instances"`);
    await q.query(`DROP SEQUENCE IF EXISTS "discovery"."change_index"`);
  }
}

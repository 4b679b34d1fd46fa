import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The node table and the indexes behind the list filters.
 *
 * Deliberately NOT indexed: `last_seen_at` and the other columns a heartbeat writes. An update
 * that touches no indexed column is a HOT update (no new entries in any index, GIN included), and
 * the fillfactor leaves room on each page for it. Heartbeats are the hot path; the offline
 * detector's sequential scan of this narrow table every few seconds is far cheaper than losing
 * HOT on every heartbeat.
 */
export class InventoryNodes1764115200000 implements MigrationInterface {
  name = 'InventoryNodes1764115200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "inventory"."nodes" (
        "id" text PRIMARY KEY,
        "hostname" text NOT NULL,
        "labels" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "agent_labels" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "label_overrides" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "group" text NOT NULL,
        "agent_group" text NOT NULL,
        "group_override" text,
        "channel" text NOT NULL,
        "arch" text NOT NULL,
        "os_name" text NOT NULL,
        "os_version" text NOT NULL,
        "kernel" text NOT NULL,
        "booted_slot" text CONSTRAINT "nodes_booted_slot_check" CHECK ("booted_slot" IN ('a', 'b')),
        "agent_version" text NOT NULL,
        "runtimes" jsonb NOT NULL DEFAULT '[]'::jsonb,
        "boot_id" text,
        "status" text NOT NULL CONSTRAINT "nodes_status_check" CHECK ("status" IN ('online', 'offline')),
        "health" text NOT NULL DEFAULT 'unknown',
        "uptime_seconds" double precision,
        "load1" double precision,
        "load5" double precision,
        "load15" double precision,
        "memory_total_bytes" bigint,
        "memory_available_bytes" bigint,
        "disk_total_bytes" bigint,
        "disk_available_bytes" bigint,
        "registered_at" timestamptz NOT NULL DEFAULT now(),
        "last_seen_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 70)`);
    await q.query(`CREATE INDEX "nodes_labels_gin" ON "inventory"."nodes" USING gin ("labels")`);
    await q.query(`CREATE INDEX "nodes_group_idx" ON "inventory"."nodes" ("group")`);
    await q.query(`CREATE INDEX "nodes_channel_idx" ON "inventory"."nodes" ("channel")`);
    await q.query(`CREATE INDEX "nodes_os_version_idx" ON "inventory"."nodes" ("os_version")`);
    await q.query(`CREATE INDEX "nodes_status_idx" ON "inventory"."nodes" ("status")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "inventory"."nodes"`);
  }
}

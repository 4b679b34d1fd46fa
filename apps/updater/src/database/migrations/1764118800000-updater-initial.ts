import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Releases, rollouts with their per-node state, each node's desired update, the reboot
 * semaphore and standing group policies.
 */
export class UpdaterInitial1764118800000 implements MigrationInterface {
  name = 'UpdaterInitial1764118800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "updater"."releases" (
        "id" uuid PRIMARY KEY,
        "version" text NOT NULL,
        "channel" text NOT NULL,
        "arch" text NOT NULL,
        "payload_url" text NOT NULL,
        "payload_sha256" text NOT NULL,
        "payload_size" bigint NOT NULL,
        "payload_signature" text NOT NULL,
        "notes" text NOT NULL DEFAULT '',
        "barrier_reason" text,
        "dead_end_reason" text,
        "rollout_start" timestamptz,
        "rollout_start_value" double precision,
        "rollout_duration_minutes" integer,
        "withdrawn_at" timestamptz,
        "withdrawn_reason" text,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX "releases_channel_arch_version_uq" ON "updater"."releases" ("channel", "arch", "version")`);
    await q.query(`CREATE INDEX "releases_created_idx" ON "updater"."releases" ("created_at", "id")`);

    await q.query(`
      CREATE TABLE "updater"."rollouts" (
        "id" uuid PRIMARY KEY,
        "release_id" uuid NOT NULL REFERENCES "updater"."releases" ("id"),
        "version" text NOT NULL,
        "channel" text NOT NULL,
        "arch" text NOT NULL,
        "previous_version" text,
        "target" jsonb NOT NULL,
        "strategy" jsonb NOT NULL,
        "reboot_slots" integer NOT NULL,
        "group_slots" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "windows" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "threshold_percent" double precision NOT NULL,
        "node_timeout_seconds" integer NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "state" text NOT NULL CHECK ("state" IN ('pending', 'running', 'paused', 'completed', 'aborted', 'rolled_back')),
        "reason" text,
        "start_paused" boolean NOT NULL DEFAULT false,
        "current_wave" integer NOT NULL DEFAULT 0,
        "wave_opened_at" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "wave_finished_at" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "acknowledged" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "members_refreshed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "started_at" timestamptz,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "ended_at" timestamptz
      )`);
    // One open rollout per (channel, arch): a node has one desired update at a time.
    await q.query(
      `CREATE UNIQUE INDEX "rollouts_open_uq" ON "updater"."rollouts" ("channel", "arch") WHERE "state" IN ('pending', 'running', 'paused')`,
    );
    await q.query(`CREATE INDEX "rollouts_active_idx" ON "updater"."rollouts" ("state") WHERE "ended_at" IS NULL`);
    await q.query(`CREATE INDEX "rollouts_created_idx" ON "updater"."rollouts" ("created_at", "id")`);

    await q.query(`
      CREATE TABLE "updater"."rollout_nodes" (
        "rollout_id" uuid NOT NULL REFERENCES "updater"."rollouts" ("id") ON DELETE CASCADE,
        "node_id" text NOT NULL,
        "group" text NOT NULL,
        "bucket" integer NOT NULL,
        "wave" integer NOT NULL,
        "online" boolean NOT NULL DEFAULT true,
        "state" text NOT NULL,
        "state_at" timestamptz NOT NULL DEFAULT now(),
        "code" text,
        "message" text,
        "rollback" boolean NOT NULL DEFAULT false,
        "target_version" text NOT NULL,
        "from_version" text,
        "activated_at" timestamptz,
        "transitions" jsonb NOT NULL DEFAULT '[]'::jsonb,
        PRIMARY KEY ("rollout_id", "node_id")
      )`);
    await q.query(`CREATE INDEX "rollout_nodes_wave_state_idx" ON "updater"."rollout_nodes" ("rollout_id", "wave", "state")`);
    await q.query(`CREATE INDEX "rollout_nodes_node_idx" ON "updater"."rollout_nodes" ("node_id")`);

    await q.query(`
      CREATE TABLE "updater"."rollout_groups" (
        "rollout_id" uuid NOT NULL REFERENCES "updater"."rollouts" ("id") ON DELETE CASCADE,
        "group" text NOT NULL,
        PRIMARY KEY ("rollout_id", "group")
      )`);
    await q.query(`CREATE INDEX "rollout_groups_group_idx" ON "updater"."rollout_groups" ("group")`);

    await q.query(`CREATE SEQUENCE "updater"."desired_revision_seq"`);
    await q.query(`
      CREATE TABLE "updater"."desired_updates" (
        "node_id" text PRIMARY KEY,
        "rollout_id" uuid NOT NULL,
        "release_id" uuid,
        "version" text NOT NULL,
        "channel" text NOT NULL,
        "arch" text NOT NULL,
        "payload" jsonb,
        "rollback" boolean NOT NULL DEFAULT false,
        "group" text NOT NULL,
        "revision" bigint NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "desired_updates_rollout_idx" ON "updater"."desired_updates" ("rollout_id")`);

    await q.query(`
      CREATE TABLE "updater"."reboot_locks" (
        "group" text NOT NULL,
        "holder" text NOT NULL,
        "acquired_at" timestamptz NOT NULL,
        "renewed_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        PRIMARY KEY ("group", "holder")
      )`);
    await q.query(`CREATE INDEX "reboot_locks_expires_idx" ON "updater"."reboot_locks" ("expires_at")`);

    await q.query(`
      CREATE TABLE "updater"."group_policies" (
        "group" text PRIMARY KEY,
        "slots" integer NOT NULL,
        "windows" jsonb NOT NULL DEFAULT '[]'::jsonb,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "updater"."group_policies"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."reboot_locks"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."desired_updates"`);
    await q.query(`DROP SEQUENCE IF EXISTS "updater"."desired_revision_seq"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."rollout_groups"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."rollout_nodes"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."rollouts"`);
    await q.query(`DROP TABLE IF EXISTS "updater"."releases"`);
  }
}

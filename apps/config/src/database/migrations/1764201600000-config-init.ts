import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revisions are immutable snapshots of the whole config set (items copied per revision: a set is
 * small and history must survive any later edit). `nodes` holds each node's facts as last seen,
 * its level-triggered desired (revision, hash) and what it last acknowledged.
 */
export class ConfigInit1764201600000 implements MigrationInterface {
  name = 'ConfigInit1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "config"."revisions" (
        "revision" integer PRIMARY KEY,
        "author" text NOT NULL,
        "message" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "item_count" integer NOT NULL,
        "rolled_back_from" integer
      )`);
    await q.query(`
      CREATE TABLE "config"."revision_items" (
        "revision" integer NOT NULL REFERENCES "config"."revisions" ("revision") ON DELETE CASCADE,
        "scope" text NOT NULL,
        "path" text NOT NULL,
        "file" jsonb NOT NULL,
        CONSTRAINT "revision_items_pk" PRIMARY KEY ("revision", "scope", "path")
      )`);
    await q.query(`
      CREATE TABLE "config"."drafts" (
        "scope" text NOT NULL,
        "path" text NOT NULL,
        "op" text NOT NULL CHECK ("op" IN ('set', 'remove')),
        "file" jsonb,
        "author" text NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "drafts_pk" PRIMARY KEY ("scope", "path")
      )`);
    await q.query(`
      CREATE TABLE "config"."schemas" (
        "pattern" text PRIMARY KEY,
        "schema" jsonb NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "config"."deployment" (
        "id" integer PRIMARY KEY CHECK ("id" = 1),
        "stable_revision" integer NOT NULL DEFAULT 0,
        "canary_revision" integer,
        "canary_previous" integer,
        "canary_selector" text,
        "canary_percent" double precision,
        "canary_started_at" timestamptz
      )`);
    await q.query(`INSERT INTO "config"."deployment" ("id") VALUES (1)`);
    await q.query(`
      CREATE TABLE "config"."nodes" (
        "node_id" text PRIMARY KEY,
        "group" text NOT NULL,
        "labels" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "facts_at" timestamptz NOT NULL DEFAULT now(),
        "desired_revision" integer,
        "desired_hash" text,
        "canary" boolean NOT NULL DEFAULT false,
        "desired_at" timestamptz,
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
    await q.query(`CREATE INDEX "nodes_applied_revision_idx" ON "config"."nodes" ("applied_revision")`);
    await q.query(`
      CREATE TABLE "config"."profiles" (
        "name" text PRIMARY KEY,
        "ignition" jsonb NOT NULL,
        "description" text,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "config"."machine_groups" (
        "name" text PRIMARY KEY,
        "profile" text NOT NULL REFERENCES "config"."profiles" ("name") ON DELETE RESTRICT,
        "selector" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "metadata" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['machine_groups', 'profiles', 'nodes', 'deployment', 'schemas', 'drafts', 'revision_items', 'revisions']) {
      await q.query(`DROP TABLE IF EXISTS "config"."${t}"`);
    }
  }
}

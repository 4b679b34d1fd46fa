import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A deadline for `awaiting_reboot`: each rollout's `reboot_wait_timeout_seconds`, and per node
 * the time of its last reboot-slot request (`seen_at`). Existing rows get the migration time, so a
 * node already waiting when this runs (whose earlier requests were never recorded) is given a
 * full deadline from now instead of being failed at once.
 */
export class UpdaterNodeDeadlines1764133200000 implements MigrationInterface {
  name = 'UpdaterNodeDeadlines1764133200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "updater"."rollouts" ADD COLUMN "reboot_wait_timeout_seconds" integer NOT NULL DEFAULT 3600`);
    await q.query(`ALTER TABLE "updater"."rollout_nodes" ADD COLUMN "seen_at" timestamptz NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "updater"."rollout_nodes" DROP COLUMN IF EXISTS "seen_at"`);
    await q.query(`ALTER TABLE "updater"."rollouts" DROP COLUMN IF EXISTS "reboot_wait_timeout_seconds"`);
  }
}

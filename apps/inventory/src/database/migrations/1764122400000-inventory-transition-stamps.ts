import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transition stamps the heartbeat flush sets in the same UPDATE that writes the heartbeat: when
 * a node last came online, and when its booted OS version last changed. A flush returns
 * `online_since = now()` to learn which nodes it just brought back, without first locking the rows
 * to read their old status (which cost ~40 % of the flush).
 */
export class InventoryTransitionStamps1764122400000 implements MigrationInterface {
  name = 'InventoryTransitionStamps1764122400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "inventory"."nodes"
      ADD COLUMN "online_since" timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN "os_version_changed_at" timestamptz NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "inventory"."nodes" DROP COLUMN "os_version_changed_at", DROP COLUMN "online_since"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the platform last re-sent a node its desired state because no ack arrived, and how many
 * times in a row (the next nudge backs off exponentially). A new desired state resets both.
 */
export class ConfigNudges1764810000000 implements MigrationInterface {
  name = 'ConfigNudges1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "config"."nodes" ADD COLUMN "nudged_at" timestamptz, ADD COLUMN "nudges" integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "config"."nodes" DROP COLUMN "nudged_at", DROP COLUMN "nudges"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the service first learned of a node (`facts_at` moves with every facts refresh). A node
 * that has never reported anything long after that is counted as silent, not as pending: most
 * likely its agent runs without the config feature.
 */
export class ConfigNodesKnownSince1764817200000 implements MigrationInterface {
  name = 'ConfigNodesKnownSince1764817200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "config"."nodes" ADD COLUMN "known_since" timestamptz NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "config"."nodes" DROP COLUMN "known_since"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change of the deployment (publish, canary start, promote, abort, rollback) is a new
 * generation; the replica that recomputes every node's desired rows records the generation it
 * finished. Until they are equal the stored desired rows lag the deployment: `config watch` must
 * not call a publish done, and the nudger must not re-send rows a publish is still rewriting.
 */
export class ConfigDeploymentGeneration1764813600000 implements MigrationInterface {
  name = 'ConfigDeploymentGeneration1764813600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "config"."deployment"
        ADD COLUMN "generation" integer NOT NULL DEFAULT 0,
        ADD COLUMN "generation_at" timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN "reconciled_generation" integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "config"."deployment" DROP COLUMN "generation", DROP COLUMN "generation_at", DROP COLUMN "reconciled_generation"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Nodes denied a busy reboot slot, told oldest first when one is freed. */
export class UpdaterLockWaiters1764122400000 implements MigrationInterface {
  name = 'UpdaterLockWaiters1764122400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "updater"."lock_waiters" (
        "group" text NOT NULL,
        "holder" text NOT NULL,
        "since" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("group", "holder")
      )`);
    await q.query(`CREATE INDEX "lock_waiters_group_since_idx" ON "updater"."lock_waiters" ("group", "since")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "updater"."lock_waiters"`);
  }
}

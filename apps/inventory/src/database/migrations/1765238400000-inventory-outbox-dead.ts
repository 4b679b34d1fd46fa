import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dead letters for the outbox: an event JetStream refuses for good (larger than max_payload, an
 * invalid subject, …) would otherwise block the relay, which publishes in `seq` order and retries
 * its head. `attempts` counts a row's permanent failures; after a few it is moved, in one
 * statement, to `outbox_dead` with the last error, and the relay goes on with the next row.
 * `outbox_dead` keeps the original `seq` as its key (order of the events if replayed) and stays
 * small: operators inspect, replay or delete its rows by hand.
 */
export class InventoryOutboxDead1765238400000 implements MigrationInterface {
  name = 'InventoryOutboxDead1765238400000';

  async up(q: QueryRunner): Promise<void> {
    // A constant default: PostgreSQL adds the column without rewriting the table.
    await q.query(`ALTER TABLE "inventory"."outbox" ADD COLUMN "attempts" integer NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE "inventory"."outbox_dead" (
        "seq" bigint CONSTRAINT "outbox_dead_pkey" PRIMARY KEY,
        "event_id" uuid NOT NULL,
        "event" text NOT NULL,
        "envelope" json NOT NULL,
        "trace" jsonb,
        "created_at" timestamptz NOT NULL,
        "failed_at" timestamptz NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL,
        "error" text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "inventory"."outbox_dead"`);
    await q.query(`ALTER TABLE "inventory"."outbox" DROP COLUMN IF EXISTS "attempts"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox: an event is inserted in the same transaction as the state change it
 * describes, and the relay publishes it to JetStream afterwards, so a crash between commit and
 * publish delays an event instead of losing it. `seq` orders the relay's reads; `event_id` is the
 * envelope id and the JetStream message id, so a row published twice is stored once. No index
 * besides the key: rows live for milliseconds, and every insert is on the heartbeat flush's path.
 */
export class InventoryOutbox1764892800000 implements MigrationInterface {
  name = 'InventoryOutbox1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "inventory"."outbox" (
        "seq" bigserial CONSTRAINT "outbox_pkey" PRIMARY KEY,
        "event_id" uuid NOT NULL,
        "event" text NOT NULL,
        "envelope" json NOT NULL,
        "trace" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "inventory"."outbox"`);
  }
}

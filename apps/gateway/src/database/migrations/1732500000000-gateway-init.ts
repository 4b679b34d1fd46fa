import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GatewayInit1732500000000 implements MigrationInterface {
  name = 'GatewayInit1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "gateway"."tokens" (
        "id" uuid PRIMARY KEY,
        "name" text NOT NULL,
        "role" text NOT NULL CHECK ("role" IN ('viewer', 'operator', 'admin')),
        "hash" bytea NOT NULL,
        "prefix" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "expires_at" timestamptz,
        "revoked_at" timestamptz,
        "created_by" text
      )`);
    await q.query(`CREATE UNIQUE INDEX "tokens_hash_key" ON "gateway"."tokens" ("hash")`);
    // Names identify live tokens; a revoked token's name may be reused.
    await q.query(`CREATE UNIQUE INDEX "tokens_active_name_key" ON "gateway"."tokens" ("name") WHERE "revoked_at" IS NULL`);
    await q.query(`
      CREATE TABLE "gateway"."audit_log" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "at" timestamptz NOT NULL,
        "token_id" uuid,
        "actor" text NOT NULL,
        "role" text,
        "method" text NOT NULL,
        "path" text NOT NULL,
        "status" int NOT NULL,
        "request_id" text NOT NULL,
        "ip" text
      )`);
    await q.query(`CREATE INDEX "audit_log_at_idx" ON "gateway"."audit_log" ("at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."audit_log"`);
    await q.query(`DROP TABLE "gateway"."tokens"`);
  }
}

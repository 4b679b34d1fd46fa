import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reboot-slot grant as one server-side function, so the per-group advisory lock is held for
 * the few statements inside it instead of across client round trips. It implements the rules of
 * `locks/semaphore-rules.ts` (the integration tests check it against that model): expired leases
 * are dropped, the owner renews (recursive), a newcomer needs an open window and a free slot; a
 * newcomer denied for a full group is queued as a waiter, a granted one leaves the queue.
 */
export class UpdaterSlotFunction1764126000000 implements MigrationInterface {
  name = 'UpdaterSlotFunction1764126000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "updater"."try_acquire_slot"(p_group text, p_holder text, p_capacity integer, p_lease_ms bigint,
                                                   p_window_open boolean, p_renew_only boolean)
      RETURNS TABLE (granted boolean, newly boolean, reason text, expires_at timestamptz, holders integer, expired text[], now_ms double precision)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_now timestamptz := clock_timestamp();
        v_expires timestamptz;
        v_expired text[];
        v_live integer;
        v_mine boolean;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('fleetcore:updater:reboot-lock:' || p_group));
        v_now := clock_timestamp();
        v_expires := v_now + make_interval(secs => p_lease_ms / 1000.0);
        WITH d AS (DELETE FROM "updater"."reboot_locks" l WHERE l."group" = p_group AND l.expires_at <= v_now RETURNING l.holder)
          SELECT coalesce(array_agg(d.holder), '{}') INTO v_expired FROM d;
        SELECT count(*)::integer, coalesce(bool_or(l.holder = p_holder), false) INTO v_live, v_mine
          FROM "updater"."reboot_locks" l WHERE l."group" = p_group;
        IF v_mine THEN
          UPDATE "updater"."reboot_locks" l SET renewed_at = v_now, expires_at = v_expires WHERE l."group" = p_group AND l.holder = p_holder;
          RETURN QUERY SELECT true, false, NULL::text, v_expires, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          RETURN;
        END IF;
        IF p_renew_only THEN
          RETURN QUERY SELECT false, false, 'lock_unavailable'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          RETURN;
        END IF;
        IF NOT p_window_open THEN
          RETURN QUERY SELECT false, false, 'outside_maintenance_window'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          RETURN;
        END IF;
        IF v_live >= p_capacity THEN
          INSERT INTO "updater"."lock_waiters" ("group", holder) VALUES (p_group, p_holder) ON CONFLICT DO NOTHING;
          RETURN QUERY SELECT false, false, 'lock_unavailable'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          RETURN;
        END IF;
        INSERT INTO "updater"."reboot_locks" ("group", holder, acquired_at, renewed_at, expires_at) VALUES (p_group, p_holder, v_now, v_now, v_expires);
        DELETE FROM "updater"."lock_waiters" w WHERE w."group" = p_group AND w.holder = p_holder;
        RETURN QUERY SELECT true, true, NULL::text, v_expires, v_live + 1, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "updater"."try_acquire_slot"(text, text, integer, bigint, boolean, boolean)`);
  }
}

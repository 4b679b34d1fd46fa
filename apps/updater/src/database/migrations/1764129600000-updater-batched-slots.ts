import type { MigrationInterface, QueryRunner } from 'typeorm';
import { UpdaterSlotFunction1764126000000 } from './1764126000000-updater-slot-function.js';

/**
 * Grants in batches: one call decides a whole queue of requests of one group, in order, under
 * one advisory lock and one commit. Under load the commit (WAL flush) dominated a grant, and
 * with one grant per transaction the group lock was held across every flush; a batch pays it
 * once (group commit). Same rules as before (see `locks/semaphore-rules.ts`).
 */
export class UpdaterBatchedSlots1764129600000 implements MigrationInterface {
  name = 'UpdaterBatchedSlots1764129600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "updater"."try_acquire_slot"(text, text, integer, bigint, boolean, boolean)`);
    await q.query(`
      CREATE FUNCTION "updater"."try_acquire_slots"(p_group text, p_holders text[], p_lease_ms bigint[], p_capacity integer,
                                                    p_window_open boolean, p_renew_only boolean)
      RETURNS TABLE (holder text, granted boolean, newly boolean, reason text, expires_at timestamptz, holders integer,
                     expired text[], now_ms double precision)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_now timestamptz;
        v_expires timestamptz;
        v_expired text[];
        v_live integer;
        v_mine boolean;
        i integer;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('fleetcore:updater:reboot-lock:' || p_group));
        v_now := clock_timestamp();
        WITH d AS (DELETE FROM "updater"."reboot_locks" l WHERE l."group" = p_group AND l.expires_at <= v_now RETURNING l.holder)
          SELECT coalesce(array_agg(d.holder), '{}') INTO v_expired FROM d;
        SELECT count(*)::integer INTO v_live FROM "updater"."reboot_locks" l WHERE l."group" = p_group;
        FOR i IN 1 .. coalesce(array_length(p_holders, 1), 0) LOOP
          v_expires := v_now + make_interval(secs => p_lease_ms[i] / 1000.0);
          SELECT EXISTS (SELECT 1 FROM "updater"."reboot_locks" l WHERE l."group" = p_group AND l.holder = p_holders[i]) INTO v_mine;
          IF v_mine THEN
            UPDATE "updater"."reboot_locks" l SET renewed_at = v_now, expires_at = v_expires WHERE l."group" = p_group AND l.holder = p_holders[i];
            RETURN QUERY SELECT p_holders[i], true, false, NULL::text, v_expires, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          ELSIF p_renew_only THEN
            RETURN QUERY SELECT p_holders[i], false, false, 'lock_unavailable'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          ELSIF NOT p_window_open THEN
            RETURN QUERY SELECT p_holders[i], false, false, 'outside_maintenance_window'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          ELSIF v_live >= p_capacity THEN
            INSERT INTO "updater"."lock_waiters" ("group", holder) VALUES (p_group, p_holders[i]) ON CONFLICT DO NOTHING;
            RETURN QUERY SELECT p_holders[i], false, false, 'lock_unavailable'::text, NULL::timestamptz, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          ELSE
            INSERT INTO "updater"."reboot_locks" ("group", holder, acquired_at, renewed_at, expires_at) VALUES (p_group, p_holders[i], v_now, v_now, v_expires);
            DELETE FROM "updater"."lock_waiters" w WHERE w."group" = p_group AND w.holder = p_holders[i];
            v_live := v_live + 1;
            RETURN QUERY SELECT p_holders[i], true, true, NULL::text, v_expires, v_live, v_expired, (extract(epoch FROM v_now) * 1000)::float8;
          END IF;
          v_expired := '{}';
        END LOOP;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "updater"."try_acquire_slots"(text, text[], bigint[], integer, boolean, boolean)`);
    await new UpdaterSlotFunction1764126000000().up(q);
  }
}

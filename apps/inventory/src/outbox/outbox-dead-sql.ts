import type { Sql } from '../database/sql.js';

/** Counts one more permanent failure of a row; no row when it is gone (another relay sent it). */
const COUNT_FAILURE = `
UPDATE "inventory"."outbox" SET "attempts" = "attempts" + 1 WHERE "seq" = $1 RETURNING "attempts"`;

/**
 * Moves one row to the dead letters in a single statement: it leaves the outbox exactly when it
 * arrives in `outbox_dead`, whatever crashes when. No `ON CONFLICT`: the DELETE would happen
 * anyway, so a clash on `seq` must fail the statement rather than drop the event.
 */
const MOVE = `
WITH moved AS (DELETE FROM "inventory"."outbox" WHERE "seq" = $1 RETURNING *)
INSERT INTO "inventory"."outbox_dead" ("seq", "event_id", "event", "envelope", "trace", "created_at", "attempts", "error")
SELECT "seq", "event_id", "event", "envelope", "trace", "created_at", "attempts", $2 FROM moved
RETURNING "seq"`;

export interface PermanentFailureOutcome {
  moved: boolean;
  attempts: number;
}

/**
 * Records that the row at `seq` failed for good once more and, at `maxAttempts`, moves it to
 * `outbox_dead` in the same transaction. `attempts` is 0 when the row no longer exists.
 */
export function recordPermanentFailure(sql: Sql, seq: string, error: string, maxAttempts: number): Promise<PermanentFailureOutcome> {
  return sql.transaction(async (tx) => {
    const [row] = await tx.query<{ attempts: number }>(COUNT_FAILURE, [seq]);
    if (!row) return { moved: false, attempts: 0 };
    if (row.attempts < maxAttempts) return { moved: false, attempts: row.attempts };
    const moved = await tx.query(MOVE, [seq, error]);
    return { moved: moved.length === 1, attempts: row.attempts };
  });
}

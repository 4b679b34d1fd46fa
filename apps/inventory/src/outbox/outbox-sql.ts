import type { Carrier } from '#lib/telemetry';
import type { Sql } from '../database/sql.js';
import type { StagedEvent } from './staged-events.js';

/** However many events a transaction staged, they are inserted by this one statement. */
const APPEND = `
INSERT INTO "inventory"."outbox" ("event_id", "event", "envelope", "trace")
SELECT e.event_id, e.event, e.envelope, $4::jsonb
FROM unnest($1::uuid[], $2::text[], $3::json[]) AS e(event_id, event, envelope)`;

/** The envelope as text: published as stored, never parsed and re-encoded. */
const READ = `
SELECT "seq", "event_id", "event", "envelope"::text AS "envelope", "trace", "created_at"
FROM "inventory"."outbox" ORDER BY "seq" LIMIT $1`;

/**
 * By exact `seq`, never `seq <= last`: sequence values are taken before commit, so a row with a
 * smaller seq than the last one published may still commit after the read; it must stay.
 */
const DELETE = `DELETE FROM "inventory"."outbox" WHERE "seq" = ANY($1::bigint[])`;

export interface OutboxRow {
  seq: string;
  event_id: string;
  event: string;
  envelope: string;
  trace: Carrier | null;
  created_at: Date;
}

export async function appendToOutbox(tx: Sql, events: readonly StagedEvent[], trace: Carrier): Promise<void> {
  if (events.length === 0) return;
  await tx.query(APPEND, [
    events.map((e) => e.envelope.id),
    events.map((e) => e.event),
    events.map((e) => JSON.stringify(e.envelope)),
    Object.keys(trace).length > 0 ? JSON.stringify(trace) : null,
  ]);
}

export function readOutbox(sql: Sql, limit: number): Promise<OutboxRow[]> {
  return sql.query<OutboxRow>(READ, [limit]);
}

export async function deleteFromOutbox(sql: Sql, seqs: string[]): Promise<void> {
  if (seqs.length > 0) await sql.query(DELETE, [seqs]);
}

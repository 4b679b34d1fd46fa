import type { Sql } from '../database/sql.js';
import type { HeartbeatBatch } from './heartbeat-buffer.js';

export interface FlushedRow {
  id: string;
  /** The node was offline before this write: it just came back. */
  came_online: boolean;
  /** Only set when `came_online`. */
  last_seen_at: Date | null;
  /**
   * The whole row as written (`to_jsonb`), only when the heartbeat changed the booted OS version:
   * `node.updated` carries the node, and reading it here saves a statement in the flush's transaction.
   */
  node: Record<string, unknown> | null;
}

/**
 * Writes a whole batch in ONE statement. Transitions are detected inside the UPDATE itself: SET
 * expressions see the row as it is when it is updated (READ COMMITTED re-reads a row a concurrent
 * transaction changed), so `online_since` is stamped with this transaction's `now()` exactly when
 * the row was offline, and `RETURNING online_since = now()` names the nodes that came back;
 * likewise for the OS version. `last_seen_at` is the database's `now()` minus the heartbeat's age
 * in this process, so clocks of replicas and the database need not agree, and it never moves
 * backwards. Concurrent flushes from several replicas may deadlock on overlapping rows;
 * PostgreSQL aborts one, which is retried like any failed flush.
 */
export const FLUSH_SQL = `
WITH hb AS (
  SELECT * FROM unnest($1::text[], $2::int4[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                       $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[])
    AS t(id, age_ms, uptime, load1, load5, load15, mem_total, mem_avail, disk_total, disk_avail, health, os_version)
)
UPDATE "inventory"."nodes" n SET
  "last_seen_at" = GREATEST(n."last_seen_at", now() - hb.age_ms * interval '1 millisecond'),
  "status" = 'online',
  "online_since" = CASE WHEN n."status" = 'offline' THEN now() ELSE n."online_since" END,
  "health" = hb.health,
  "uptime_seconds" = hb.uptime,
  "load1" = hb.load1, "load5" = hb.load5, "load15" = hb.load15,
  "memory_total_bytes" = hb.mem_total, "memory_available_bytes" = hb.mem_avail,
  "disk_total_bytes" = hb.disk_total, "disk_available_bytes" = hb.disk_avail,
  "os_version" = COALESCE(hb.os_version, n."os_version"),
  "os_version_changed_at" = CASE WHEN hb.os_version <> n."os_version" THEN now() ELSE n."os_version_changed_at" END,
  "updated_at" = CASE WHEN n."status" = 'offline' OR hb.os_version <> n."os_version" THEN now() ELSE n."updated_at" END
FROM hb
WHERE n."id" = hb.id
RETURNING n."id",
  n."online_since" = now() AS came_online,
  CASE WHEN n."online_since" = now() THEN n."last_seen_at" END AS last_seen_at,
  CASE WHEN n."os_version_changed_at" = now() THEN to_jsonb(n) END AS node`;

/**
 * Array literals built by hand: node-pg's generic array serialisation escapes every element and
 * showed up in profiles. Numbers print as they are; node ids and health values cannot contain
 * quotes or backslashes (validated), OS versions are escaped.
 */
function numbers(values: number[]): string {
  return `{${values.join(',')}}`;
}

function plainStrings(values: string[]): string {
  return `{"${values.join('","')}"}`;
}

function quotedOrNull(values: Array<string | null>): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/** Column-wise parameters for `FLUSH_SQL`: one array per column, one element per node. */
export function flushParams(batch: HeartbeatBatch, now: number): string[] {
  const ages = batch.receivedAt.map((at) => Math.min(2 ** 31 - 1, Math.max(0, Math.round(now - at))));
  return [
    plainStrings(batch.nodeIds),
    numbers(ages),
    numbers(batch.uptime),
    numbers(batch.load1),
    numbers(batch.load5),
    numbers(batch.load15),
    numbers(batch.memTotal),
    numbers(batch.memAvail),
    numbers(batch.diskTotal),
    numbers(batch.diskAvail),
    plainStrings(batch.health),
    quotedOrNull(batch.osVersion),
  ];
}

export async function writeHeartbeats(sql: Sql, batch: HeartbeatBatch, now = Date.now()): Promise<FlushedRow[]> {
  return sql.query<FlushedRow>(FLUSH_SQL, flushParams(batch, now));
}

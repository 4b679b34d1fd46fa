import type { Sql } from '../database/sql.js';
import type { BufferedHeartbeat } from './heartbeat-buffer.js';

export interface FlushedRow {
  id: string;
  /** Status before this write: `offline` means the node just came back. */
  was: 'online' | 'offline';
  prev_os_version: string;
  os_version: string;
  last_seen_at: Date;
}

/**
 * Writes a whole batch in ONE statement. `locked` takes the row locks in id order, so concurrent
 * flushes from several replicas (and the offline detector, which does the same) cannot deadlock,
 * and returns each row's status as it was at the moment we locked it. `last_seen_at` is the
 * database's `now()` minus the heartbeat's age in this process, so clocks of replicas and the
 * database server need not agree, and it never moves backwards.
 */
export const FLUSH_SQL = `
WITH hb AS (
  SELECT * FROM unnest($1::text[], $2::int[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                       $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[])
    AS t(id, age_ms, uptime, load1, load5, load15, mem_total, mem_avail, disk_total, disk_avail, health, os_version)
),
locked AS (
  SELECT n."id", n."status", n."os_version"
  FROM "inventory"."nodes" n JOIN hb ON hb.id = n."id"
  ORDER BY n."id"
  FOR UPDATE OF n
)
UPDATE "inventory"."nodes" n SET
  "last_seen_at" = GREATEST(n."last_seen_at", now() - hb.age_ms * interval '1 millisecond'),
  "status" = 'online',
  "health" = hb.health,
  "uptime_seconds" = hb.uptime,
  "load1" = hb.load1, "load5" = hb.load5, "load15" = hb.load15,
  "memory_total_bytes" = hb.mem_total, "memory_available_bytes" = hb.mem_avail,
  "disk_total_bytes" = hb.disk_total, "disk_available_bytes" = hb.disk_avail,
  "os_version" = COALESCE(hb.os_version, n."os_version"),
  "updated_at" = CASE
    WHEN locked."status" = 'offline' OR COALESCE(hb.os_version, n."os_version") <> n."os_version" THEN now()
    ELSE n."updated_at" END
FROM hb JOIN locked ON locked."id" = hb.id
WHERE n."id" = hb.id
RETURNING n."id", locked."status" AS was, locked."os_version" AS prev_os_version, n."os_version", n."last_seen_at"`;

/** Column-wise parameters for `FLUSH_SQL`: one array per column, one element per node. */
export function flushParams(batch: BufferedHeartbeat[], now: number): unknown[] {
  const n = batch.length;
  const cols = Array.from({ length: 12 }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const { nodeId, heartbeat: hb, receivedAt } = batch[i];
    cols[0][i] = nodeId;
    cols[1][i] = Math.min(2 ** 31 - 1, Math.max(0, Math.round(now - receivedAt)));
    cols[2][i] = hb.uptimeSeconds;
    cols[3][i] = hb.load[0];
    cols[4][i] = hb.load[1];
    cols[5][i] = hb.load[2];
    cols[6][i] = hb.memory.totalBytes;
    cols[7][i] = hb.memory.availableBytes;
    cols[8][i] = hb.disk.totalBytes;
    cols[9][i] = hb.disk.availableBytes;
    cols[10][i] = hb.health;
    cols[11][i] = hb.osVersion ?? null;
  }
  return cols;
}

export async function writeHeartbeats(sql: Sql, batch: BufferedHeartbeat[], now = Date.now()): Promise<FlushedRow[]> {
  return sql.query<FlushedRow>(FLUSH_SQL, flushParams(batch, now));
}

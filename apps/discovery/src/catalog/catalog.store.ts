import type { DataSource } from 'typeorm';
import type { HealthState } from '#contracts/discovery';
import { isEmptyDraft, reapAt, ttlDeadline, type ChangeKind, type CheckRecord, type Draft, type InstanceRecord } from './records.js';

/** What one committed transaction changed; all of it carries the same index. */
export interface Committed {
  index: number;
  changes: { kind: ChangeKind; instanceId: string; service: string; record: InstanceRecord | null; previousHealth: HealthState | null }[];
}

export interface RowLock {
  ids?: string[];
  nodeId?: string;
}

interface Row {
  id: string;
  service: string;
  node_id: string | null;
  source: InstanceRecord['source'];
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  group: string;
  checks: CheckRecord[];
  node_offline: boolean;
  health: HealthState;
  critical_since: Date | null;
  deregister_after_ms: string | null;
  definition_hash: string;
  create_index: string;
  modify_index: string;
  registered_at: Date;
  updated_at: Date;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function fromRow(r: Row): InstanceRecord {
  return {
    id: r.id,
    service: r.service,
    nodeId: r.node_id,
    source: r.source,
    address: r.address,
    port: r.port,
    tags: r.tags,
    meta: r.meta,
    group: r.group,
    checks: r.checks,
    nodeOffline: r.node_offline,
    health: r.health,
    criticalSince: iso(r.critical_since),
    deregisterCriticalAfterMs: r.deregister_after_ms === null ? null : Number(r.deregister_after_ms),
    definitionHash: r.definition_hash,
    createIndex: Number(r.create_index),
    modifyIndex: Number(r.modify_index),
    registeredAt: r.registered_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function toRow(r: InstanceRecord): Record<string, unknown> {
  return {
    id: r.id,
    service: r.service,
    node_id: r.nodeId,
    source: r.source,
    address: r.address,
    port: r.port,
    tags: r.tags,
    meta: r.meta,
    group: r.group,
    checks: r.checks,
    node_offline: r.nodeOffline,
    health: r.health,
    critical_since: r.criticalSince,
    deregister_after_ms: r.deregisterCriticalAfterMs,
    reap_at: reapAt(r),
    ttl_deadline: ttlDeadline(r),
    definition_hash: r.definitionHash,
    create_index: r.createIndex,
    modify_index: r.modifyIndex,
    registered_at: r.registeredAt,
    updated_at: r.updatedAt,
  };
}

const COLUMNS = [
  'id', 'service', 'node_id', 'source', 'address', 'port', 'tags', 'meta', 'group', 'checks', 'node_offline', 'health',
  'critical_since', 'deregister_after_ms', 'reap_at', 'ttl_deadline', 'definition_hash', 'create_index', 'modify_index',
  'registered_at', 'updated_at',
];
const RECORDSET_TYPES =
  'id text, service text, node_id text, source text, address text, port int, tags jsonb, meta jsonb, "group" text, ' +
  'checks jsonb, node_offline boolean, health text, critical_since timestamptz, deregister_after_ms bigint, ' +
  'reap_at timestamptz, ttl_deadline timestamptz, definition_hash text, create_index bigint, modify_index bigint, ' +
  'registered_at timestamptz, updated_at timestamptz';
const quoted = COLUMNS.map((c) => `"${c}"`);

/** One multi-row upsert for the whole batch, however many instances a transaction touched. */
const UPSERT = `
  INSERT INTO "discovery"."instances" (${quoted.join(', ')})
  SELECT ${quoted.map((c) => `r.${c}`).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(${RECORDSET_TYPES})
  ON CONFLICT ("id") DO UPDATE SET ${quoted.filter((c) => c !== '"id"').map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

/**
 * The catalog in PostgreSQL. Every change runs as: lock the rows it concerns, decide in pure
 * code (transitions.ts), take ONE index from the sequence, write in one statement per table.
 */
export class CatalogStore {
  constructor(private readonly ds: DataSource) {}

  async loadAll(): Promise<{ records: InstanceRecord[]; services: Map<string, number>; index: number }> {
    return this.ds.transaction('REPEATABLE READ', async (m) => {
      const [seq] = (await m.query(`SELECT last_value, is_called FROM "discovery"."change_index"`)) as {
        last_value: string;
        is_called: boolean;
      }[];
      const rows = (await m.query(`SELECT * FROM "discovery"."instances"`)) as Row[];
      const services = (await m.query(`SELECT name, modify_index FROM "discovery"."services"`)) as {
        name: string;
        modify_index: string;
      }[];
      return {
        records: rows.map(fromRow),
        services: new Map(services.map((s) => [s.name, Number(s.modify_index)])),
        index: seq.is_called ? Number(seq.last_value) : 0,
      };
    });
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const rows = (await this.ds.query(`SELECT * FROM "discovery"."instances" WHERE id = $1`, [id])) as Row[];
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async transact(lock: RowLock, decide: (rows: InstanceRecord[]) => Draft): Promise<Committed | null> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      const rows = (await qr.query(
        `SELECT * FROM "discovery"."instances" WHERE id = ANY($1::text[]) OR node_id = $2 ORDER BY id FOR UPDATE`,
        [lock.ids ?? [], lock.nodeId ?? null],
      )) as Row[];
      const draft = decide(rows.map(fromRow));
      if (isEmptyDraft(draft)) {
        await qr.commitTransaction();
        return null;
      }
      let index = 0;
      const visible = draft.upserts.length + draft.deletes.length > 0;
      if (visible) {
        const [seq] = (await qr.query(`SELECT nextval('"discovery"."change_index"') AS index`)) as { index: string }[];
        index = Number(seq.index);
      }
      const upserts = draft.upserts.map((u) => ({
        ...u,
        record: { ...u.record, modifyIndex: index, createIndex: u.record.createIndex || index },
      }));
      const written = [...upserts.map((u) => u.record), ...(draft.quiet ?? [])];
      if (written.length > 0) await qr.query(UPSERT, [JSON.stringify(written.map(toRow))]);
      if (draft.deletes.length > 0) {
        // A rename deletes and inserts the same id: only delete rows not rewritten above.
        const rewritten = new Set(upserts.map((u) => u.record.id));
        const gone = draft.deletes.map((d) => d.id).filter((id) => !rewritten.has(id));
        if (gone.length > 0) await qr.query(`DELETE FROM "discovery"."instances" WHERE id = ANY($1::text[])`, [gone]);
      }
      const services = [...new Set([...upserts.map((u) => u.record.service), ...draft.deletes.map((d) => d.service)])];
      if (visible) {
        await qr.query(
          `INSERT INTO "discovery"."services" (name, modify_index) SELECT unnest($1::text[]), $2
           ON CONFLICT (name) DO UPDATE SET modify_index = EXCLUDED.modify_index`,
          [services, index],
        );
      }
      await qr.commitTransaction();
      if (!visible) return null;
      return {
        index,
        changes: [
          ...draft.deletes.map((d) => ({
            kind: 'deregistered' as const,
            instanceId: d.id,
            service: d.service,
            record: null,
            previousHealth: d.health,
          })),
          ...upserts.map((u) => ({
            kind: u.kind,
            instanceId: u.record.id,
            service: u.record.service,
            record: u.record,
            previousHealth: u.previousHealth,
          })),
        ],
      };
    } catch (err) {
      await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }

  /** Ids of instances whose TTL ran out, for the elected replica's sweep. */
  async dueForTtl(now: string, limit = 1000): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT id FROM "discovery"."instances" WHERE ttl_deadline IS NOT NULL AND ttl_deadline <= $1 ORDER BY ttl_deadline LIMIT $2`,
      [now, limit],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Ids of instances critical for longer than they may be. */
  async dueForReap(now: string, limit = 1000): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT id FROM "discovery"."instances" WHERE reap_at IS NOT NULL AND reap_at <= $1 ORDER BY reap_at LIMIT $2`,
      [now, limit],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }
}

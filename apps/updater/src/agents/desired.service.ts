import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import type { MessageBus } from '#lib/messaging';
import { UPDATE_NOTICE_TOPIC, type DesiredUpdate, type Payload } from '#contracts/updater';
import { returning } from '../common/sql.js';
import { UPDATER_BUS, UPDATER_DB } from '../common/tokens.js';

const T = '"updater"."desired_updates"';

interface DesiredRow {
  node_id: string;
  rollout_id: string;
  release_id: string | null;
  version: string;
  channel: string;
  arch: string;
  payload: Payload | null;
  rollback: boolean;
  group: string;
  revision: string;
}

export interface DesiredTarget {
  rolloutId: string;
  releaseId: string | null;
  version: string;
  channel: string;
  arch: string;
  payload: Payload | null;
  rollback: boolean;
}

export const NO_UPDATE: DesiredUpdate = { v: 1, update: null };

function toDesired(r: DesiredRow): DesiredUpdate {
  return {
    v: 1,
    update: {
      rolloutId: r.rollout_id,
      release: { id: r.release_id, version: r.version, channel: r.channel, arch: r.arch, payload: r.payload },
      rollback: r.rollback,
      revision: Number(r.revision),
      group: r.group,
    },
  };
}

/**
 * Each node's desired update: what the agent converges on. Level-triggered: the row is the
 * truth, notices on `<root>.node.<id>.update` only tell an agent to look sooner.
 */
@Injectable()
export class DesiredService {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
  ) {}

  async get(nodeId: string): Promise<DesiredUpdate> {
    const rows: DesiredRow[] = await this.db.query(`SELECT * FROM ${T} WHERE node_id = $1`, [nodeId]);
    return rows.length ? toDesired(rows[0]) : NO_UPDATE;
  }

  async groupOf(nodeId: string): Promise<string | null> {
    const rows: Array<{ group: string }> = await this.db.query(`SELECT "group" FROM ${T} WHERE node_id = $1`, [nodeId]);
    return rows[0]?.group ?? null;
  }

  /** Sets one target for many nodes in one statement; returns the notices to send after commit. */
  async setMany(q: QueryRunner, target: DesiredTarget, nodes: Array<{ nodeId: string; group: string }>): Promise<Map<string, DesiredUpdate>> {
    const notices = new Map<string, DesiredUpdate>();
    if (nodes.length === 0) return notices;
    const rows: DesiredRow[] = await q.query(
      `INSERT INTO ${T} (node_id, rollout_id, release_id, version, channel, arch, payload, rollback, "group", revision, updated_at)
       SELECT n.node_id, $3, $4, $5, $6, $7, $8::jsonb, $9, n.grp, nextval('"updater"."desired_revision_seq"'), now()
         FROM unnest($1::text[], $2::text[]) AS n(node_id, grp)
       ON CONFLICT (node_id) DO UPDATE SET rollout_id = EXCLUDED.rollout_id, release_id = EXCLUDED.release_id, version = EXCLUDED.version,
         channel = EXCLUDED.channel, arch = EXCLUDED.arch, payload = EXCLUDED.payload, rollback = EXCLUDED.rollback,
         "group" = EXCLUDED."group", revision = EXCLUDED.revision, updated_at = now()
       RETURNING *`,
      [
        nodes.map((n) => n.nodeId),
        nodes.map((n) => n.group),
        target.rolloutId,
        target.releaseId,
        target.version,
        target.channel,
        target.arch,
        target.payload === null ? null : JSON.stringify(target.payload),
        target.rollback,
      ],
    );
    for (const r of rows) notices.set(r.node_id, toDesired(r));
    return notices;
  }

  /** Clears the desired update of nodes still pointed at `rolloutId`; returns notices of "none". */
  async clear(q: QueryRunner | DataSource, rolloutId: string, nodeIds: string[]): Promise<Map<string, DesiredUpdate>> {
    const notices = new Map<string, DesiredUpdate>();
    if (nodeIds.length === 0) return notices;
    const rows: Array<{ node_id: string }> = await returning(q,
      `DELETE FROM ${T} WHERE rollout_id = $1 AND node_id = ANY($2::text[]) RETURNING node_id`,
      [rolloutId, nodeIds],
    );
    for (const r of rows) notices.set(r.node_id, NO_UPDATE);
    return notices;
  }

  /** Tells agents to look (after the change is committed). */
  async notify(notices: Map<string, DesiredUpdate>): Promise<void> {
    if (notices.size === 0) return;
    for (const [nodeId, desired] of notices) this.bus.publish(this.bus.subjects.node(nodeId, UPDATE_NOTICE_TOPIC), desired);
    await this.bus.nc.flush();
  }
}

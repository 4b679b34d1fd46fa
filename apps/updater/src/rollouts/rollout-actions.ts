import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { FleetError } from '#contracts/common';
import { UPDATER_EVENTS, type Payload, type RolloutState } from '#contracts/updater';
import { DesiredService } from '../agents/desired.service.js';
import { UpdaterEvents } from '../common/updater-events.js';
import { inTransaction, returning } from '../common/sql.js';
import { UPDATER_DB } from '../common/tokens.js';
import { ControllerSignal } from '../controller/controller-signal.js';
import type { RolloutRow } from './rollout-row.js';

const R = '"updater"."rollouts"';
const N = '"updater"."rollout_nodes"';
/** States in which a node has not yet rebooted into the new release: dropping the desired update is enough. */
export const NOT_YET_REBOOTED = ['pending', 'downloading', 'staged', 'awaiting_reboot'];

/** Abort and rollback: they change both the rollout and its nodes' desired updates in one transaction. */
@Injectable()
export class RolloutActions {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly desired: DesiredService,
    private readonly events: UpdaterEvents,
    private readonly signal: ControllerSignal,
  ) {}

  wake(): void {
    this.signal.wake();
  }

  async abort(id: string, reason: string): Promise<void> {
    const { notices, rollout, from } = await inTransaction(this.db, async (q) => {
      const { rollout, from } = await this.lockAndMove(q, id, ['pending', 'running', 'paused'], 'aborted', reason, true);
      const open: Array<{ node_id: string }> = await q.query(
        `SELECT node_id FROM ${N} WHERE rollout_id = $1 AND activated_at IS NOT NULL AND state = ANY($2::text[])`,
        [id, NOT_YET_REBOOTED],
      );
      const notices = await this.desired.clear(q, id, open.map((r) => r.node_id));
      return { notices, rollout, from };
    });
    await this.desired.notify(notices);
    this.events.emit(UPDATER_EVENTS.rolloutState, { rolloutId: id, version: rollout.version, from, state: 'aborted', reason });
  }

  /**
   * Nodes that booted the new release (or are about to verify it) get the version they came from
   * as desired, with `rollback: true`: the agent switches back to its other slot, no download.
   * Nodes that had not rebooted yet simply lose their desired update.
   */
  async rollback(id: string, reason: string): Promise<void> {
    const result = await inTransaction(this.db, async (q) => {
      const { rollout, from } = await this.lockAndMove(q, id, ['running', 'paused', 'completed', 'aborted'], 'rolled_back', reason, false);
      const notStarted: Array<{ node_id: string }> = await q.query(
        `SELECT node_id FROM ${N} WHERE rollout_id = $1 AND activated_at IS NOT NULL AND NOT rollback AND state = ANY($2::text[])`,
        [id, NOT_YET_REBOOTED],
      );
      const notices = await this.desired.clear(q, id, notStarted.map((r) => r.node_id));
      const updated: Array<{ node_id: string; group: string; from_version: string | null; state: string }> = await q.query(
        `SELECT node_id, "group", from_version, state FROM ${N}
          WHERE rollout_id = $1 AND NOT rollback AND state IN ('rebooting', 'verifying', 'succeeded') FOR UPDATE`,
        [id],
      );
      const byVersion = new Map<string, Array<{ nodeId: string; group: string; from: string }>>();
      for (const n of updated) {
        const version = n.from_version ?? rollout.previous_version;
        if (!version) throw new FleetError('conflict', `node ${n.node_id} did not report the version it came from and the release has no predecessor`);
        const list = byVersion.get(version) ?? [];
        list.push({ nodeId: n.node_id, group: n.group, from: n.state });
        byVersion.set(version, list);
      }
      const transitions: Array<{ nodeId: string; from: string; at: string }> = [];
      for (const [version, nodes] of byVersion) {
        const prev: Array<{ id: string; payload_url: string; payload_sha256: string; payload_size: string; payload_signature: string }> = await q.query(
          `SELECT id, payload_url, payload_sha256, payload_size, payload_signature FROM "updater"."releases" WHERE channel = $1 AND arch = $2 AND version = $3`,
          [rollout.channel, rollout.arch, version],
        );
        const payload: Payload | null = prev.length
          ? { url: prev[0].payload_url, sha256: prev[0].payload_sha256, size: Number(prev[0].payload_size), signature: prev[0].payload_signature }
          : null;
        const set = await this.desired.setMany(
          q,
          { rolloutId: id, releaseId: prev[0]?.id ?? null, version, channel: rollout.channel, arch: rollout.arch, payload, rollback: true },
          nodes,
        );
        for (const [k, v] of set) notices.set(k, v);
        const rows: Array<{ node_id: string; at: string }> = await returning(q,
          `UPDATE ${N} SET rollback = true, state = 'pending', state_at = now(), code = NULL, message = NULL, target_version = $3,
                  activated_at = now(),
                  transitions = transitions || jsonb_build_array(jsonb_build_object('state', 'pending', 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'message', $4::text))
            WHERE rollout_id = $1 AND node_id = ANY($2::text[])
            RETURNING node_id, to_char(state_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at`,
          [id, nodes.map((n) => n.nodeId), version, `rollback to ${version}`],
        );
        const fromOf = new Map(nodes.map((n) => [n.nodeId, n.from]));
        for (const r of rows) transitions.push({ nodeId: r.node_id, from: fromOf.get(r.node_id)!, at: r.at });
      }
      return { notices, rollout, from, transitions };
    });
    await this.desired.notify(result.notices);
    this.events.emit(UPDATER_EVENTS.rolloutState, { rolloutId: id, version: result.rollout.version, from: result.from, state: 'rolled_back', reason });
    this.events.emitNodeTransitions(
      result.transitions.map((t) => ({ rolloutId: id, nodeId: t.nodeId, from: t.from, state: 'pending', rollback: true, code: null, at: t.at })),
    );
    this.wake();
  }

  private async lockAndMove(
    q: QueryRunner,
    id: string,
    from: RolloutState[],
    to: RolloutState,
    reason: string,
    end: boolean,
  ): Promise<{ rollout: RolloutRow; from: RolloutState }> {
    const rows: RolloutRow[] = await q.query(`SELECT * FROM ${R} WHERE id = $1 FOR UPDATE`, [id]);
    if (rows.length === 0) throw new FleetError('not_found', `rollout ${id} not found`);
    const rollout = rows[0];
    if (!from.includes(rollout.state)) throw new FleetError('conflict', `rollout ${id} is ${rollout.state}; cannot move it to ${to}`);
    await q.query(`UPDATE ${R} SET state = $2, reason = $3, updated_at = now(), ended_at = ${end ? 'now()' : 'NULL'} WHERE id = $1`, [id, to, reason]);
    return { rollout, from: rollout.state };
  }
}


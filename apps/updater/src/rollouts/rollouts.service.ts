import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import type { z } from 'zod';
import { FleetError } from '#contracts/common';
import {
  UPDATER_EVENTS,
  createRolloutSchema,
  listRolloutsSchema,
  rolloutNodesSchema,
  type RolloutState,
  type RolloutView,
} from '#contracts/updater';
import { UpdaterEvents } from '../common/updater-events.js';
import { decodeCursor, encodeCursor, inTransaction, isUniqueViolation, returning } from '../common/sql.js';
import { UPDATER_DB } from '../common/tokens.js';
import { ReleasesService } from '../releases/releases.service.js';
import { RolloutActions } from './rollout-actions.js';
import { toRolloutNodeView, toRolloutView, type RolloutNodeRow, type RolloutRow, type WaveCounts } from './rollout-row.js';

const R = '"updater"."rollouts"';
const N = '"updater"."rollout_nodes"';

/** Operator side of rollouts: create, read, and the pause/resume/abort/rollback actions. */
@Injectable()
export class RolloutsService {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly releases: ReleasesService,
    private readonly actions: RolloutActions,
    private readonly events: UpdaterEvents,
  ) {}

  async create(input: z.output<typeof createRolloutSchema>): Promise<RolloutView> {
    const release = await this.releases.get({ id: input.releaseId });
    if (release.withdrawn) throw new FleetError('conflict', `release ${release.version} is withdrawn`);
    const previous = await this.releases.previousOf(release);
    for (const g of Object.keys(input.groupSlots)) {
      if (input.target.groups && !input.target.groups.includes(g)) {
        throw new FleetError('validation_failed', `groupSlots names group "${g}" which is not in target.groups`);
      }
    }
    const id = randomUUID();
    const target = { channel: input.target.channel ?? release.channel, selector: input.target.selector ?? null, groups: input.target.groups ?? [] };
    let inserted: unknown[] = [];
    try {
      inserted = await this.db.query(
        `INSERT INTO ${R} (id, release_id, version, channel, arch, previous_version, target, strategy, reboot_slots, group_slots, windows,
           threshold_percent, node_timeout_seconds, reboot_wait_timeout_seconds, description, state, start_paused)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'pending',$16)
         ON CONFLICT (channel, arch) WHERE state IN ('pending', 'running', 'paused') DO NOTHING RETURNING id`,
        [
          id,
          release.id,
          release.version,
          target.channel,
          release.arch,
          previous?.version ?? null,
          JSON.stringify(target),
          JSON.stringify(input.strategy),
          input.rebootSlotsPerGroup,
          JSON.stringify(input.groupSlots),
          JSON.stringify(input.maintenanceWindows),
          input.failureThresholdPercent,
          input.nodeTimeoutSeconds,
          input.rebootWaitTimeoutSeconds,
          input.description,
          input.paused,
        ],
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    if (inserted.length === 0) {
      throw new FleetError('conflict', `an open rollout already exists for ${target.channel}/${release.arch}; finish, abort or roll it back first`);
    }
    this.events.emit(UPDATER_EVENTS.rolloutCreated, { rolloutId: id, releaseId: release.id, version: release.version });
    this.events.emit(UPDATER_EVENTS.rolloutState, { rolloutId: id, version: release.version, from: null, state: 'pending', reason: null });
    this.actions.wake();
    return this.get(id);
  }

  async get(id: string): Promise<RolloutView> {
    const rows: RolloutRow[] = await this.db.query(`SELECT * FROM ${R} WHERE id = $1`, [id]);
    if (rows.length === 0) throw new FleetError('not_found', `rollout ${id} not found`);
    const counts = await this.counts([id]);
    return toRolloutView(rows[0], counts.get(id) ?? new Map());
  }

  async list(input: z.output<typeof listRolloutsSchema>): Promise<{ items: RolloutView[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (input.state) where.push(`state = ANY($${params.push(Array.isArray(input.state) ? input.state : [input.state])}::text[])`);
    if (input.releaseId) where.push(`release_id = $${params.push(input.releaseId)}`);
    if (input.channel) where.push(`channel = $${params.push(input.channel)}`);
    const after = decodeCursor(input.cursor, 2);
    if (after) where.push(`(created_at, id) < ($${params.push(after[0])}::timestamptz, $${params.push(after[1])}::uuid)`);
    const rows: RolloutRow[] = await this.db.query(
      `SELECT * FROM ${R} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${input.limit + 1}`,
      params,
    );
    const page = rows.slice(0, input.limit);
    const counts = await this.counts(page.map((r) => r.id));
    const last = page[page.length - 1];
    return {
      items: page.map((r) => toRolloutView(r, counts.get(r.id) ?? new Map())),
      nextCursor: rows.length > input.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  async nodes(input: z.output<typeof rolloutNodesSchema>) {
    await this.get(input.id);
    const where = ['rollout_id = $1'];
    const params: unknown[] = [input.id];
    if (input.state) where.push(`state = ANY($${params.push(Array.isArray(input.state) ? input.state : [input.state])}::text[])`);
    if (input.group) where.push(`"group" = $${params.push(input.group)}`);
    if (input.wave !== undefined) where.push(`wave = $${params.push(input.wave)}`);
    if (input.nodeId) where.push(`node_id = $${params.push(input.nodeId)}`);
    if (input.activated !== undefined) where.push(input.activated ? 'activated_at IS NOT NULL' : 'activated_at IS NULL');
    const total = Number((await this.db.query(`SELECT count(*)::int AS n FROM ${N} WHERE ${where.join(' AND ')}`, params))[0].n);
    const after = decodeCursor(input.cursor, 1);
    if (after) where.push(`node_id > $${params.push(after[0])}`);
    const rows: RolloutNodeRow[] = await this.db.query(
      `SELECT * FROM ${N} WHERE ${where.join(' AND ')} ORDER BY node_id LIMIT ${input.limit + 1}`,
      params,
    );
    const page = rows.slice(0, input.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toRolloutNodeView),
      total,
      nextCursor: rows.length > input.limit && last ? encodeCursor([last.node_id]) : null,
    };
  }

  async pause(id: string, reason?: string): Promise<RolloutView> {
    await this.transition(id, ['pending', 'running'], 'paused', reason ?? 'paused by operator');
    return this.get(id);
  }

  async resume(id: string): Promise<RolloutView> {
    const rollout = await this.get(id);
    if (rollout.state === 'paused') {
      const release = await this.releases.get({ id: rollout.releaseId });
      if (release.withdrawn) throw new FleetError('conflict', `release ${release.version} is withdrawn; the rollout cannot resume`);
    }
    // Failures so far are accepted by the operator: the threshold counts only new ones.
    await inTransaction(this.db, async (q) => {
      const moved = await this.transition(id, ['paused'], 'running', null, q);
      const rows: Array<{ wave: number; n: number }> = await q.query(
        `SELECT wave, count(*)::int AS n FROM ${N} WHERE rollout_id = $1 AND NOT rollback AND state IN ('failed', 'rolled_back') GROUP BY wave`,
        [id],
      );
      const acknowledged = Object.fromEntries(rows.map((r) => [String(r.wave), r.n]));
      await q.query(`UPDATE ${R} SET acknowledged = $2 WHERE id = $1`, [id, JSON.stringify(acknowledged)]);
      return moved;
    });
    this.actions.wake();
    return this.get(id);
  }

  async abort(id: string, reason?: string): Promise<RolloutView> {
    await this.actions.abort(id, reason ?? 'aborted by operator');
    return this.get(id);
  }

  async rollback(id: string, reason?: string): Promise<RolloutView> {
    await this.actions.rollback(id, reason ?? 'rolled back by operator');
    return this.get(id);
  }

  private async transition(
    id: string,
    from: RolloutState[],
    to: RolloutState,
    reason: string | null,
    q: DataSource | QueryRunner = this.db,
  ): Promise<void> {
    const rows: Array<{ version: string; old: RolloutState }> = await returning(q,
      `UPDATE ${R} r SET state = $3, reason = $4, updated_at = now()
         FROM (SELECT id, state AS old FROM ${R} WHERE id = $1 FOR UPDATE) o
        WHERE r.id = o.id AND o.old = ANY($2::text[]) RETURNING r.version, o.old`,
      [id, from, to, reason],
    );
    if (rows.length === 0) {
      const current = await this.get(id);
      throw new FleetError('conflict', `rollout ${id} is ${current.state}; cannot move it to ${to}`);
    }
    this.events.emit(UPDATER_EVENTS.rolloutState, { rolloutId: id, version: rows[0].version, from: rows[0].old, state: to, reason });
  }

  private async counts(ids: string[]): Promise<Map<string, WaveCounts>> {
    const result = new Map<string, WaveCounts>();
    if (ids.length === 0) return result;
    const rows: Array<{ rollout_id: string; wave: number; state: string; n: number }> = await this.db.query(
      `SELECT rollout_id, wave, state, count(*)::int AS n FROM ${N} WHERE rollout_id = ANY($1::uuid[]) GROUP BY rollout_id, wave, state`,
      [ids],
    );
    for (const r of rows) {
      const waves = result.get(r.rollout_id) ?? new Map();
      const states = waves.get(r.wave) ?? new Map();
      states.set(r.state, r.n);
      waves.set(r.wave, states);
      result.set(r.rollout_id, waves);
    }
    return result;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { UPDATER_EVENTS, type DesiredUpdate, type NodeUpdateState, type RolloutState } from '#contracts/updater';
import { JsonLogger, counter, histogram } from '#lib/telemetry';
import { DesiredService } from '../agents/desired.service.js';
import { UpdaterEvents, type NodeTransitionEvent } from '../common/updater-events.js';
import { inTransaction, returning } from '../common/sql.js';
import { UPDATER_DB, UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';
import { SemaphoreService } from '../locks/semaphore.service.js';
import { overdueReason, seenResolutionSeconds } from '../rollouts/node-deadline.js';
import type { RolloutRow } from '../rollouts/rollout-row.js';
import { wavePercents } from '../rollouts/rollout-row.js';
import { thresholdBreach } from '../rollouts/threshold.js';
import { bucketLimit, linearFraction } from '../rollouts/waves.js';
import { Membership } from './membership.js';

const R = '"updater"."rollouts"';
const N = '"updater"."rollout_nodes"';
const ISO_NOW = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const tickSeconds = histogram('fleet_updater_controller_tick_seconds', 'Time of one controller pass over open rollouts');
const activated = counter('fleet_updater_nodes_activated_total', 'Nodes given a desired update by the controller');
const timedOut = counter('fleet_updater_nodes_timed_out_total', 'Nodes marked failed for passing a deadline, by the state they stalled in', ['state']);

interface WaveStat {
  total: number;
  activated: number;
  failed: number;
  /** Activated, not terminal, and not an offline node that never started. */
  blocking: number;
}

interface TimeoutCandidate {
  node_id: string;
  state: NodeUpdateState;
  group: string;
  online: boolean;
  state_ms: number;
  seen_ms: number;
  now_ms: number;
}

interface Effects {
  notices: Map<string, DesiredUpdate>;
  emits: Array<[string, unknown]>;
  transitions: NodeTransitionEvent[];
  /** Reboot slots of timed-out nodes, announced after commit. */
  freed: Array<{ group: string; holder: string }>;
}

/**
 * One idempotent pass of the rollout controller. All progress lives in PostgreSQL, every step
 * is guarded by the current state (a node is activated only while `activated_at IS NULL`, a wave
 * opens only once, a timeout only hits a node still in the state it timed out in) and each
 * rollout is advanced in one transaction holding its row lock, so a pass can be repeated, cut
 * short by a crash, or run by a new leader after failover without losing or doubling anything.
 */
@Injectable()
export class RolloutController {
  private readonly logger = new JsonLogger('updater', 'RolloutController');

  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
    private readonly membership: Membership,
    private readonly desired: DesiredService,
    private readonly events: UpdaterEvents,
    private readonly semaphore: SemaphoreService,
  ) {}

  async tick(): Promise<void> {
    const stop = tickSeconds.startTimer();
    try {
      const open: RolloutRow[] = await this.db.query(`SELECT * FROM ${R} WHERE ended_at IS NULL ORDER BY created_at`);
      for (const r of open) {
        try {
          await this.advance(r);
        } catch (err) {
          this.logger.error(`rollout ${r.id}: controller pass failed`, err as Error);
        }
      }
    } finally {
      stop();
    }
  }

  private async advance(snapshot: RolloutRow): Promise<void> {
    const refreshDue =
      snapshot.state !== 'rolled_back' &&
      (snapshot.members_refreshed_at === null || Date.now() - snapshot.members_refreshed_at.getTime() >= this.env.UPDATER_MEMBERS_REFRESH_MS);
    if (refreshDue) {
      try {
        await this.membership.refresh(snapshot);
      } catch (err) {
        this.logger.warn(`rollout ${snapshot.id}: could not resolve its target`, { error: (err as Error).message });
        if (snapshot.state === 'pending') return;
      }
    }
    const effects: Effects = { notices: new Map(), emits: [], transitions: [], freed: [] };
    await inTransaction(this.db, async (q) => {
      const rows: Array<RolloutRow & { now_ms: number }> = await q.query(
        `SELECT *, (extract(epoch FROM now()) * 1000)::float8 AS now_ms FROM ${R} WHERE id = $1 FOR UPDATE`,
        [snapshot.id],
      );
      const r = rows[0];
      if (!r || r.ended_at !== null) return;
      const now = Number(r.now_ms);
      if (r.state === 'pending') {
        if (r.members_refreshed_at === null) return;
        await this.setState(q, r, r.start_paused ? 'paused' : 'running', r.start_paused ? 'created paused' : null, effects, true);
      }
      await this.timeouts(q, r, effects);
      if (r.state === 'running') await this.progress(q, r, now, effects);
      if (r.state === 'rolled_back') await this.rollbackProgress(q, r, effects);
    });
    await this.desired.notify(effects.notices);
    await this.semaphore.announceFreed(effects.freed, 'timeout');
    for (const [event, data] of effects.emits) this.events.emit(event, data);
    this.events.emitNodeTransitions(effects.transitions);
  }

  private async progress(q: QueryRunner, r: RolloutRow, now: number, fx: Effects): Promise<void> {
    const stats = await this.waveStats(q, r.id);
    const percents = wavePercents(r);
    const breach = thresholdBreach(
      percents.map((_, wave) => ({
        wave,
        total: stats.get(wave)?.activated ?? 0,
        failed: stats.get(wave)?.failed ?? 0,
        acknowledged: r.acknowledged[wave] ?? 0,
      })),
      r.threshold_percent,
    );
    if (breach) {
      await this.setState(q, r, 'paused', breach, fx);
      return;
    }
    if (r.strategy.type === 'linear') {
      const start = r.strategy.start ? Date.parse(r.strategy.start) : (r.started_at ?? new Date(now)).getTime();
      const fraction = linearFraction(start, r.strategy.durationSeconds, now);
      if (fraction > 0) {
        if (!r.wave_opened_at[0]) await this.markWave(q, r, 'wave_opened_at', 0, now, fx, fraction * 100);
        await this.activate(q, r, `bucket < ${bucketLimit(fraction * 100)}`, fx);
      }
      const blocking = [...(await this.waveStats(q, r.id)).values()].reduce((n, s) => n + s.blocking, 0);
      if (fraction >= 1 && blocking === 0) await this.complete(q, r, fx);
      return;
    }
    const soakMs = r.strategy.soakSeconds * 1000;
    for (let guard = 0; guard <= percents.length; guard++) {
      const cw = r.current_wave;
      if (!r.wave_opened_at[cw]) await this.markWave(q, r, 'wave_opened_at', cw, now, fx, percents[cw]);
      await this.activate(q, r, `wave <= ${cw}`, fx);
      const current = await this.waveStats(q, r.id);
      let blocking = 0;
      for (const [wave, s] of current) if (wave <= cw) blocking += s.blocking;
      if (blocking > 0) return;
      if (!r.wave_finished_at[cw]) await this.markWave(q, r, 'wave_finished_at', cw, now, fx);
      if (cw === percents.length - 1) {
        await this.complete(q, r, fx);
        return;
      }
      const hadNodes = (current.get(cw)?.total ?? 0) > 0;
      if (hadNodes && now < Date.parse(r.wave_finished_at[cw]) + soakMs) return;
      r.current_wave = cw + 1;
      await q.query(`UPDATE ${R} SET current_wave = $2, updated_at = now() WHERE id = $1`, [r.id, r.current_wave]);
    }
  }

  /** Offers the release to nodes matching `where` that have not had it yet: one statement each. */
  private async activate(q: QueryRunner, r: RolloutRow, where: string, fx: Effects): Promise<void> {
    const rows: Array<{ node_id: string; group: string }> = await returning(q,
      `UPDATE ${N} SET activated_at = now(), state_at = now(),
              transitions = jsonb_build_array(jsonb_build_object('state', 'pending', 'at', ${ISO_NOW}))
        WHERE rollout_id = $1 AND activated_at IS NULL AND NOT rollback AND ${where}
        RETURNING node_id, "group"`,
      [r.id],
    );
    if (rows.length === 0) return;
    const rel: Array<{ payload_url: string; payload_sha256: string; payload_size: string; payload_signature: string }> = await q.query(
      `SELECT payload_url, payload_sha256, payload_size, payload_signature FROM "updater"."releases" WHERE id = $1`,
      [r.release_id],
    );
    const p = rel[0];
    const notices = await this.desired.setMany(
      q,
      {
        rolloutId: r.id,
        releaseId: r.release_id,
        version: r.version,
        channel: r.channel,
        arch: r.arch,
        payload: { url: p.payload_url, sha256: p.payload_sha256, size: Number(p.payload_size), signature: p.payload_signature },
        rollback: false,
      },
      rows.map((n) => ({ nodeId: n.node_id, group: n.group })),
    );
    for (const [k, v] of notices) fx.notices.set(k, v);
    activated.inc(rows.length);
  }

  /**
   * Marks failed every node past its deadline (`node-deadline.ts`): too long in one working state,
   * or silent too long in `awaiting_reboot`. The statement narrows to candidates by the same rule
   * and locks them; `overdueReason` decides and words the reason. A timed-out node loses its
   * desired update and its reboot slot (a silent holder would otherwise keep it until its lease
   * ends), and counts as a failure of its wave, so the threshold sees it in this same pass.
   */
  private async timeouts(q: QueryRunner, r: RolloutRow, fx: Effects): Promise<void> {
    const candidates: TimeoutCandidate[] = await q.query(
      `SELECT node_id, state, "group", online, (extract(epoch FROM state_at) * 1000)::float8 AS state_ms,
              (extract(epoch FROM seen_at) * 1000)::float8 AS seen_ms, (extract(epoch FROM now()) * 1000)::float8 AS now_ms
         FROM ${N}
        WHERE rollout_id = $1 AND activated_at IS NOT NULL
          AND state NOT IN ('succeeded', 'failed', 'rolled_back')
          AND (online OR state <> 'pending')
          AND CASE WHEN state = 'awaiting_reboot'
                   THEN greatest(state_at, seen_at + make_interval(secs => $4)) < now() - make_interval(secs => $3)
                   ELSE state_at < now() - make_interval(secs => $2) END
        FOR UPDATE`,
      [r.id, r.node_timeout_seconds, r.reboot_wait_timeout_seconds, seenResolutionSeconds(r.reboot_wait_timeout_seconds)],
    );
    const deadlines = { progressSeconds: r.node_timeout_seconds, rebootWaitSeconds: r.reboot_wait_timeout_seconds };
    const due = candidates
      .map((c) => {
        const clock = { state: c.state, stateAt: Number(c.state_ms), seenAt: Number(c.seen_ms), online: c.online };
        return { c, reason: overdueReason(clock, deadlines, Number(c.now_ms)) };
      })
      .filter((x): x is { c: TimeoutCandidate; reason: string } => x.reason !== null);
    if (due.length === 0) return;
    const rows: Array<{ node_id: string; from: string; rollback: boolean; group: string; at: string }> = await returning(q,
      `UPDATE ${N} n SET state = 'failed', code = 'timeout', message = u.message, state_at = now(),
              transitions = n.transitions || jsonb_build_array(jsonb_build_object('state', 'failed', 'at', ${ISO_NOW}, 'code', 'timeout', 'message', u.message))
         FROM unnest($2::text[], $3::text[], $4::text[]) AS u(node_id, old, message)
        WHERE n.rollout_id = $1 AND n.node_id = u.node_id AND n.state = u.old
       RETURNING n.node_id, u.old AS "from", n.rollback, n."group", ${ISO_NOW} AS at`,
      [r.id, due.map((x) => x.c.node_id), due.map((x) => x.c.state), due.map((x) => x.reason)],
    );
    if (rows.length === 0) return;
    for (const x of rows) timedOut.inc({ state: x.from });
    const cleared = await this.desired.clear(q, r.id, rows.map((x) => x.node_id));
    for (const [k, v] of cleared) fx.notices.set(k, v);
    fx.freed.push(...(await this.semaphore.dropHolders(q, rows.map((x) => ({ group: x.group, holder: x.node_id })))));
    fx.transitions.push(
      ...rows.map((x) => ({ rolloutId: r.id, nodeId: x.node_id, from: x.from, state: 'failed', rollback: x.rollback, code: 'timeout', at: x.at })),
    );
  }

  private async rollbackProgress(q: QueryRunner, r: RolloutRow, fx: Effects): Promise<void> {
    const rows: Array<{ n: number }> = await q.query(
      `SELECT count(*)::int AS n FROM ${N} WHERE rollout_id = $1 AND rollback
          AND state NOT IN ('succeeded', 'failed', 'rolled_back') AND (online OR state <> 'pending')`,
      [r.id],
    );
    if (rows[0].n > 0) return;
    await q.query(`UPDATE ${R} SET ended_at = now(), updated_at = now() WHERE id = $1`, [r.id]);
    fx.emits.push([UPDATER_EVENTS.rolloutState, { rolloutId: r.id, version: r.version, from: 'rolled_back', state: 'rolled_back', reason: 'rollback finished' }]);
  }

  private async waveStats(q: QueryRunner, id: string): Promise<Map<number, WaveStat>> {
    const rows: Array<{ wave: number; total: number; activated: number; failed: number; blocking: number }> = await q.query(
      `SELECT wave, count(*)::int AS total,
              count(*) FILTER (WHERE activated_at IS NOT NULL)::int AS activated,
              count(*) FILTER (WHERE state IN ('failed', 'rolled_back'))::int AS failed,
              count(*) FILTER (WHERE activated_at IS NOT NULL AND state NOT IN ('succeeded', 'failed', 'rolled_back')
                                 AND (online OR state <> 'pending'))::int AS blocking
         FROM ${N} WHERE rollout_id = $1 AND NOT rollback GROUP BY wave`,
      [id],
    );
    return new Map(rows.map((x) => [x.wave, x]));
  }

  private async markWave(
    q: QueryRunner,
    r: RolloutRow,
    column: 'wave_opened_at' | 'wave_finished_at',
    wave: number,
    now: number,
    fx: Effects,
    percent?: number,
  ) {
    const at = new Date(now).toISOString();
    r[column] = { ...r[column], [wave]: at };
    await q.query(`UPDATE ${R} SET ${column} = ${column} || jsonb_build_object($2::text, $3::text), updated_at = now() WHERE id = $1`, [
      r.id,
      String(wave),
      at,
    ]);
    if (column === 'wave_opened_at') {
      const n: Array<{ n: number }> = await q.query(`SELECT count(*)::int AS n FROM ${N} WHERE rollout_id = $1 AND wave <= $2`, [r.id, wave]);
      fx.emits.push([UPDATER_EVENTS.waveOpened, { rolloutId: r.id, wave, percent: percent ?? 0, nodes: n[0].n }]);
    }
  }

  private async complete(q: QueryRunner, r: RolloutRow, fx: Effects): Promise<void> {
    await q.query(`UPDATE ${R} SET state = 'completed', reason = NULL, ended_at = now(), updated_at = now() WHERE id = $1`, [r.id]);
    fx.emits.push([UPDATER_EVENTS.rolloutState, { rolloutId: r.id, version: r.version, from: r.state, state: 'completed', reason: null }]);
    r.state = 'completed';
  }

  private async setState(q: QueryRunner, r: RolloutRow, to: RolloutState, reason: string | null, fx: Effects, start = false): Promise<void> {
    await q.query(
      `UPDATE ${R} SET state = $2, reason = $3, updated_at = now() ${start ? ', started_at = COALESCE(started_at, now())' : ''} WHERE id = $1`,
      [r.id, to, reason],
    );
    if (start && !r.started_at) r.started_at = new Date();
    fx.emits.push([UPDATER_EVENTS.rolloutState, { rolloutId: r.id, version: r.version, from: r.state, state: to, reason }]);
    r.state = to;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DesiredUpdate } from '#contracts/updater';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import { UpdaterEvents, type NodeTransitionEvent } from '../common/updater-events.js';
import { returning } from '../common/sql.js';
import { UPDATER_DB } from '../common/tokens.js';
import { ControllerSignal } from '../controller/controller-signal.js';
import { applyTransition, isTerminal, type NodeProgress, type Transition } from '../rollouts/node-state-machine.js';
import type { RolloutNodeRow } from '../rollouts/rollout-row.js';
import { DesiredService } from './desired.service.js';
import type { ReportItem } from './report-consumer.js';

const N = '"updater"."rollout_nodes"';
const reports = counter('fleet_updater_reports_total', 'Agent update reports, by state and result', ['state', 'result']);

interface Change {
  row: RolloutNodeRow;
  progress: NodeProgress;
  added: Transition[];
  fromVersion: string | null;
  items: ReportItem[];
}

/**
 * Applies agents' update reports to per-node state, a batch at a time: one read of the rows
 * concerned, the state machine in memory (reports of one node in order), one conditional update
 * of every changed row, one delete of the desired updates of nodes that failed. Reports arrive at
 * least once and may repeat or lag; the state machine only moves forward, so a repeated or stale
 * report is ignored. A report that cannot belong (unknown rollout, wrong version) is dropped,
 * counted and logged once per cause. A row changed meanwhile by the controller (a timeout) is
 * re-read and its reports re-applied.
 */
@Injectable()
export class ReportsService {
  private readonly problems = new OncePerCause(new JsonLogger('updater', 'reports'));

  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly desired: DesiredService,
    private readonly events: UpdaterEvents,
    private readonly signal: ControllerSignal,
  ) {}

  async applyBatch(items: ReportItem[]): Promise<void> {
    let pending = items;
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) pending = await this.tryBatch(pending);
    for (const x of pending) reports.inc({ state: x.report.state, result: 'ignored' });
  }

  /** Returns the reports of rows that changed under it, to try again. */
  private async tryBatch(items: ReportItem[]): Promise<ReportItem[]> {
    const key = (rolloutId: string, nodeId: string) => `${rolloutId}/${nodeId}`;
    const byKey = new Map<string, ReportItem[]>();
    for (const it of items) {
      const k = key(it.report.rolloutId, it.nodeId);
      const list = byKey.get(k) ?? [];
      list.push(it);
      byKey.set(k, list);
    }
    const pairs = [...byKey.values()].map((l) => l[0]);
    const rows: RolloutNodeRow[] = await this.db.query(
      `SELECT n.* FROM ${N} n JOIN unnest($1::uuid[], $2::text[]) AS k(rid, nid) ON n.rollout_id = k.rid AND n.node_id = k.nid`,
      [pairs.map((p) => p.report.rolloutId), pairs.map((p) => p.nodeId)],
    );
    const rowOf = new Map(rows.map((r) => [key(r.rollout_id, r.node_id), r]));
    const changes: Change[] = [];
    for (const [k, list] of byKey) {
      const row = rowOf.get(k);
      if (!row) {
        this.reject(list, 'unknown', `node ${list[0].nodeId} is not part of rollout ${list[0].report.rolloutId}`);
        continue;
      }
      if (row.activated_at === null) {
        this.reject(list, 'not_activated', `node ${row.node_id} has not been offered rollout ${row.rollout_id} yet`);
        continue;
      }
      let progress: NodeProgress = { state: row.state, stateAt: row.state_at.toISOString(), code: row.code, message: row.message, transitions: [] };
      const added: Transition[] = [];
      let fromVersion: string | null = null;
      for (const { report } of list) {
        if (report.version !== row.target_version) {
          // About the release while the node is being rolled back (or the reverse): stale.
          if (row.rollback) reports.inc({ state: report.state, result: 'ignored' });
          else this.reject([{ nodeId: row.node_id, report }], 'version', `report for ${report.version}, node ${row.node_id} is moving to ${row.target_version}`);
          continue;
        }
        const step: Transition = { state: report.state, at: report.at, ...(report.code ? { code: report.code } : {}), ...(report.message ? { message: report.message } : {}) };
        const next = applyTransition(progress, step);
        if (!next) {
          reports.inc({ state: report.state, result: 'ignored' });
          continue;
        }
        progress = next;
        added.push(step);
        fromVersion ??= report.fromVersion ?? null;
        reports.inc({ state: report.state, result: 'applied' });
      }
      if (added.length > 0) changes.push({ row, progress, added, fromVersion, items: list });
    }
    if (changes.length === 0) return [];

    const updated = await returning<{ rollout_id: string; node_id: string }>(
      this.db,
      `UPDATE ${N} n SET state = u.state, state_at = now(), code = u.code, message = u.message,
              transitions = n.transitions || u.added, from_version = COALESCE(n.from_version, u.from_version)
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[])
              AS u(rid, nid, old, rb, state, code, message, added, from_version)
        WHERE n.rollout_id = u.rid AND n.node_id = u.nid AND n.state = u.old AND n.rollback = u.rb
        RETURNING n.rollout_id, n.node_id`,
      [
        changes.map((c) => c.row.rollout_id),
        changes.map((c) => c.row.node_id),
        changes.map((c) => c.row.state),
        changes.map((c) => c.row.rollback),
        changes.map((c) => c.progress.state),
        changes.map((c) => c.progress.code),
        changes.map((c) => c.progress.message),
        changes.map((c) => JSON.stringify(c.added)),
        changes.map((c) => c.fromVersion),
      ],
    );
    const done = new Set(updated.map((u) => key(u.rollout_id, u.node_id)));
    const retry: ReportItem[] = [];
    const failedByRollout = new Map<string, string[]>();
    let terminal = false;
    const emitted: NodeTransitionEvent[] = [];
    for (const c of changes) {
      const k = key(c.row.rollout_id, c.row.node_id);
      if (!done.has(k)) {
        retry.push(...c.items);
        continue;
      }
      let from = c.row.state;
      for (const t of c.added) {
        emitted.push({
          rolloutId: c.row.rollout_id,
          nodeId: c.row.node_id,
          from,
          state: t.state,
          rollback: c.row.rollback,
          code: t.code ?? null,
          at: t.at,
        });
        from = t.state;
      }
      if (isTerminal(c.progress.state)) terminal = true;
      if (c.progress.state === 'failed' || c.progress.state === 'rolled_back') {
        // The node stays on (or went back to) its old release: it must not try this one again.
        const list = failedByRollout.get(c.row.rollout_id) ?? [];
        list.push(c.row.node_id);
        failedByRollout.set(c.row.rollout_id, list);
      }
    }
    this.events.emitNodeTransitions(emitted);
    const notices = new Map<string, DesiredUpdate>();
    for (const [rolloutId, nodeIds] of failedByRollout) {
      for (const [k, v] of await this.desired.clear(this.db, rolloutId, nodeIds)) notices.set(k, v);
    }
    await this.desired.notify(notices);
    if (terminal) this.signal.wake();
    return retry;
  }

  private reject(items: ReportItem[], cause: string, message: string): void {
    for (const it of items) reports.inc({ state: it.report.state, result: 'rejected' });
    this.problems.warn(`report:${cause}`, 'dropped update report', { reason: message });
  }
}

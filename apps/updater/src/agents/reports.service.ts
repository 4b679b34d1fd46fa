import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { FleetError } from '#contracts/common';
import { UPDATER_EVENTS, type UpdateReport } from '#contracts/updater';
import { counter } from '#lib/telemetry';
import { UpdaterEvents } from '../common/updater-events.js';
import { returning } from '../common/sql.js';
import { UPDATER_DB } from '../common/tokens.js';
import { ControllerSignal } from '../controller/controller-signal.js';
import { applyTransition, isTerminal } from '../rollouts/node-state-machine.js';
import type { RolloutNodeRow } from '../rollouts/rollout-row.js';
import { DesiredService } from './desired.service.js';

const N = '"updater"."rollout_nodes"';
const reports = counter('fleet_updater_reports_total', 'Agent update reports, by state and result', ['state', 'result']);

export type ReportOutcome = 'applied' | 'ignored';

/**
 * Applies an agent's update report to its per-node state. Reports arrive at least once and may
 * repeat or lag; the state machine only moves forward, so a repeated or stale report is ignored
 * (acknowledged, counted), while a report that cannot belong here (unknown rollout, wrong
 * version) is rejected with a typed error and dropped by the consumer.
 */
@Injectable()
export class ReportsService {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    private readonly desired: DesiredService,
    private readonly events: UpdaterEvents,
    private readonly signal: ControllerSignal,
  ) {}

  async apply(nodeId: string, report: UpdateReport): Promise<ReportOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await this.tryApply(nodeId, report);
      if (outcome !== 'raced') {
        reports.inc({ state: report.state, result: outcome });
        return outcome;
      }
    }
    reports.inc({ state: report.state, result: 'ignored' });
    return 'ignored';
  }

  private async tryApply(nodeId: string, report: UpdateReport): Promise<ReportOutcome | 'raced'> {
    const rows: RolloutNodeRow[] = await this.db.query(`SELECT * FROM ${N} WHERE rollout_id = $1 AND node_id = $2`, [report.rolloutId, nodeId]);
    const row = rows[0];
    if (!row) throw new FleetError('not_found', `node ${nodeId} is not part of rollout ${report.rolloutId}`);
    if (row.activated_at === null) throw new FleetError('conflict', `node ${nodeId} has not been offered rollout ${report.rolloutId} yet`);
    if (report.version !== row.target_version) {
      // A report about the release while the node is being rolled back (or vice versa) is stale.
      if (row.rollback) return 'ignored';
      throw new FleetError('conflict', `report for version ${report.version}, but node ${nodeId} is being moved to ${row.target_version}`);
    }
    const next = applyTransition(
      { state: row.state, stateAt: row.state_at.toISOString(), code: row.code, message: row.message, transitions: row.transitions },
      { state: report.state, at: report.at, ...(report.code ? { code: report.code } : {}), ...(report.message ? { message: report.message } : {}) },
    );
    if (!next) return 'ignored';
    const step = next.transitions[next.transitions.length - 1];
    const updated: unknown[] = await returning(this.db,
      `UPDATE ${N} SET state = $4, state_at = now(), code = $5, message = $6, transitions = transitions || $7::jsonb,
              from_version = COALESCE(from_version, $8)
        WHERE rollout_id = $1 AND node_id = $2 AND state = $3 AND rollback = $9 RETURNING 1`,
      [report.rolloutId, nodeId, row.state, next.state, next.code, next.message, JSON.stringify([step]), report.fromVersion ?? null, row.rollback],
    );
    if (updated.length === 0) return 'raced';
    if (next.state === 'failed' || next.state === 'rolled_back') {
      // The node stays on (or went back to) its old release: it must not try this one again.
      await this.desired.notify(await this.desired.clear(this.db, report.rolloutId, [nodeId]));
    }
    this.events.emit(UPDATER_EVENTS.nodeState, {
      rolloutId: report.rolloutId,
      nodeId,
      from: row.state,
      state: next.state,
      rollback: row.rollback,
      code: next.code,
      at: report.at,
    });
    if (isTerminal(next.state)) this.signal.wake();
    return 'applied';
  }
}

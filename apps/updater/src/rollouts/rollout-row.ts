import type { MaintenanceWindow, RolloutNodeView, RolloutState, RolloutView, Strategy } from '#contracts/updater';
import { iso } from '../common/sql.js';

export interface RolloutRow {
  id: string;
  release_id: string;
  version: string;
  channel: string;
  arch: string;
  previous_version: string | null;
  target: { channel: string; selector: string | null; groups: string[] };
  strategy: Strategy;
  reboot_slots: number;
  group_slots: Record<string, number>;
  windows: Record<string, MaintenanceWindow[]>;
  threshold_percent: number;
  node_timeout_seconds: number;
  reboot_wait_timeout_seconds: number;
  description: string;
  state: RolloutState;
  reason: string | null;
  start_paused: boolean;
  current_wave: number;
  wave_opened_at: Record<string, string>;
  wave_finished_at: Record<string, string>;
  acknowledged: Record<string, number>;
  members_refreshed_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
  ended_at: Date | null;
}

export interface RolloutNodeRow {
  rollout_id: string;
  node_id: string;
  group: string;
  bucket: number;
  wave: number;
  online: boolean;
  state: RolloutNodeView['state'];
  state_at: Date;
  code: string | null;
  message: string | null;
  rollback: boolean;
  target_version: string;
  from_version: string | null;
  activated_at: Date | null;
  seen_at: Date;
  transitions: RolloutNodeView['transitions'];
}

/** Per-wave counts: wave → state → n. */
export type WaveCounts = Map<number, Map<string, number>>;

export function wavePercents(r: RolloutRow): number[] {
  return r.strategy.type === 'waves' ? r.strategy.waves : [100];
}

export function toRolloutView(r: RolloutRow, counts: WaveCounts): RolloutView {
  const byState: Record<string, number> = {};
  let total = 0;
  const waves = wavePercents(r).map((percent, index) => {
    const states = counts.get(index) ?? new Map<string, number>();
    const wByState: Record<string, number> = {};
    let wTotal = 0;
    for (const [state, n] of states) {
      wByState[state] = n;
      wTotal += n;
      byState[state] = (byState[state] ?? 0) + n;
    }
    total += wTotal;
    return {
      index,
      percent,
      total: wTotal,
      byState: wByState,
      openedAt: r.wave_opened_at[index] ?? null,
      finishedAt: r.wave_finished_at[index] ?? null,
    };
  });
  return {
    id: r.id,
    releaseId: r.release_id,
    version: r.version,
    channel: r.channel,
    arch: r.arch,
    previousVersion: r.previous_version,
    target: r.target,
    strategy: r.strategy,
    rebootSlotsPerGroup: r.reboot_slots,
    groupSlots: r.group_slots,
    maintenanceWindows: r.windows,
    failureThresholdPercent: r.threshold_percent,
    nodeTimeoutSeconds: r.node_timeout_seconds,
    rebootWaitTimeoutSeconds: r.reboot_wait_timeout_seconds,
    description: r.description,
    state: r.state,
    reason: r.reason,
    currentWave: r.current_wave,
    waves,
    counts: { total, byState },
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    updatedAt: iso(r.updated_at)!,
    endedAt: iso(r.ended_at),
  };
}

export function toRolloutNodeView(n: RolloutNodeRow): RolloutNodeView {
  return {
    nodeId: n.node_id,
    group: n.group,
    wave: n.wave,
    bucket: n.bucket,
    state: n.state,
    code: n.code,
    message: n.message,
    rollback: n.rollback,
    activatedAt: iso(n.activated_at),
    stateAt: iso(n.state_at)!,
    fromVersion: n.from_version,
    transitions: n.transitions,
  };
}

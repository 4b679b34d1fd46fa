import type { ReleaseView } from '#contracts/updater';
import { iso } from '../common/sql.js';
import type { GraphRelease } from '../graph/graph-builder.js';

/** A `updater.releases` row as pg returns it. */
export interface ReleaseRow {
  id: string;
  version: string;
  channel: string;
  arch: string;
  payload_url: string;
  payload_sha256: string;
  payload_size: string;
  payload_signature: string;
  notes: string;
  barrier_reason: string | null;
  dead_end_reason: string | null;
  rollout_start: Date | null;
  rollout_start_value: number | null;
  rollout_duration_minutes: number | null;
  withdrawn_at: Date | null;
  withdrawn_reason: string | null;
  created_at: Date;
}

export function toReleaseView(r: ReleaseRow): ReleaseView {
  return {
    id: r.id,
    version: r.version,
    channel: r.channel,
    arch: r.arch,
    payload: { url: r.payload_url, sha256: r.payload_sha256, size: Number(r.payload_size), signature: r.payload_signature },
    notes: r.notes,
    barrier: r.barrier_reason === null ? null : { reason: r.barrier_reason },
    deadEnd: r.dead_end_reason === null ? null : { reason: r.dead_end_reason },
    rollout:
      r.rollout_start === null
        ? null
        : { startAt: iso(r.rollout_start)!, startValue: r.rollout_start_value ?? 0, durationMinutes: r.rollout_duration_minutes ?? 0 },
    withdrawn: r.withdrawn_at === null ? null : { reason: r.withdrawn_reason ?? '', at: iso(r.withdrawn_at)! },
    createdAt: iso(r.created_at)!,
  };
}

export function toGraphRelease(v: ReleaseView): GraphRelease {
  return { ...v, withdrawn: v.withdrawn !== null };
}

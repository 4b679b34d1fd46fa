import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { withDriftKinds, type DriftEntry, type FileResult, type FleetStatus, type NodeConfigStatus } from '#contracts/config';
import { Db } from '../database/data-source.js';
import { APPLIED_DESIRED_SQL, UNANSWERED_SQL } from '../nodes/answered.js';
import { RevisionStore } from '../revisions/revision-store.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';

interface StatusRow {
  node_id: string;
  desired_revision: number | null;
  desired_hash: string | null;
  applied_revision: number | null;
  applied_hash: string | null;
  canary: boolean;
  last_ok: boolean | null;
  last_revision: number | null;
  last_hash: string | null;
  last_files: FileResult[] | null;
  last_at: Date | null;
  drift: DriftEntry[];
  drift_at: Date | null;
}

/** A node's desired state joined with what it last reported (nothing yet: nulls, no drift). */
const STATUS_SELECT = `SELECT n."node_id", n."desired_revision", n."desired_hash", n."canary",
    r."applied_revision", r."applied_hash", r."last_ok", r."last_revision", r."last_hash", r."last_files", r."last_at",
    coalesce(r."drift", '[]'::jsonb) AS "drift", r."drift_at"
  FROM "config"."nodes" n LEFT JOIN "config"."node_reports" r USING ("node_id")`;

/** Per-node and fleet-wide views of where config stands. */
@Injectable()
export class StatusService {
  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(RevisionStore) private readonly store: RevisionStore,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
  ) {}

  async node(nodeId: string): Promise<NodeConfigStatus> {
    const [row] = await this.db.query<StatusRow>(`${STATUS_SELECT} WHERE n."node_id" = $1`, [nodeId]);
    if (!row) throw new FleetError('not_found', `config knows no node ${nodeId}`);
    return toStatus(row);
  }

  async drifted(limit: number): Promise<NodeConfigStatus[]> {
    const rows = await this.db.query<StatusRow>(`${STATUS_SELECT} WHERE r."drift" <> '[]'::jsonb ORDER BY n."node_id" LIMIT $1`, [limit]);
    return rows.map(toStatus);
  }

  async fleet(): Promise<FleetStatus> {
    const [[totals], applied, desired, latest, deployment] = await Promise.all([
      this.db.query<{ nodes: number; in_sync: number; drifted: number; failed: number; pending: number; silent: number; canary_nodes: number }>(
        `SELECT count(*)::int AS nodes,
           count(*) FILTER (WHERE ${APPLIED_DESIRED_SQL})::int AS in_sync,
           count(*) FILTER (WHERE r."drift" <> '[]'::jsonb)::int AS drifted,
           count(*) FILTER (WHERE r."last_ok" = false)::int AS failed,
           count(*) FILTER (WHERE ${UNANSWERED_SQL}
                              AND NOT (r."node_id" IS NULL AND n."known_since" < now() - make_interval(secs => $1 / 1000.0)))::int AS pending,
           count(*) FILTER (WHERE r."node_id" IS NULL AND n."known_since" < now() - make_interval(secs => $1 / 1000.0))::int AS silent,
           count(*) FILTER (WHERE n."canary")::int AS canary_nodes
         FROM "config"."nodes" n LEFT JOIN "config"."node_reports" r USING ("node_id")`,
        [this.settings.nudge.graceMs],
      ),
      this.db.query<{ r: string; n: number }>(`SELECT coalesce(r."applied_revision"::text, 'none') AS r, count(*)::int AS n
         FROM "config"."nodes" n LEFT JOIN "config"."node_reports" r USING ("node_id") GROUP BY 1`),
      this.db.query<{ r: string; n: number }>(`SELECT coalesce("desired_revision"::text, 'none') AS r, count(*)::int AS n FROM "config"."nodes" GROUP BY 1`),
      this.store.latest(),
      this.store.deployment(),
    ]);
    return {
      latestRevision: latest,
      stableRevision: deployment.stableRevision,
      canary: deployment.canary
        ? {
            revision: deployment.canary.revision,
            previousRevision: deployment.canary.previousRevision,
            selector: deployment.canary.selector,
            percent: deployment.canary.percent,
            nodes: totals.canary_nodes,
            startedAt: deployment.canary.startedAt.toISOString(),
          }
        : null,
      nodes: totals.nodes,
      inSync: totals.in_sync,
      drifted: totals.drifted,
      failed: totals.failed,
      pending: totals.pending,
      silent: totals.silent,
      reconciling: deployment.generation > deployment.reconciledGeneration,
      byAppliedRevision: Object.fromEntries(applied.map((r) => [r.r, r.n])),
      byDesiredRevision: Object.fromEntries(desired.map((r) => [r.r, r.n])),
    };
  }
}

function toStatus(row: StatusRow): NodeConfigStatus {
  return {
    nodeId: row.node_id,
    desiredRevision: row.desired_revision,
    desiredHash: row.desired_hash,
    appliedRevision: row.applied_revision,
    appliedHash: row.applied_hash,
    inSync: row.applied_revision !== null && row.applied_revision === row.desired_revision && row.applied_hash === row.desired_hash,
    canary: row.canary,
    lastResult:
      row.last_at && row.last_revision !== null
        ? { ok: !!row.last_ok, revision: row.last_revision, hash: row.last_hash ?? '', files: row.last_files ?? [], at: row.last_at.toISOString() }
        : null,
    // Rows stored before drift entries had kinds still read as content or missing drift.
    drift: row.drift.map(withDriftKinds),
    driftAt: row.drift_at?.toISOString() ?? null,
  };
}

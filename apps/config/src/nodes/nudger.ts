import { Inject, Injectable } from '@nestjs/common';
import { CONFIG_NOTICE_TOPIC } from '#contracts/config';
import { MessageBus } from '#lib/messaging';
import { ElectedLoop } from '#lib/persistence';
import { JsonLogger, counter } from '#lib/telemetry';
import { Db } from '../database/data-source.js';
import { RevisionStore } from '../revisions/revision-store.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';
import { DesiredStateService } from './desired-state.service.js';
import { UNANSWERED_SQL } from './answered.js';
import { noticeBytes } from './notice.js';

const nudged = counter('fleet_config_nudges_total', 'Desired-state notices re-sent to nodes whose ack had not arrived');

/** Nodes re-noticed per statement; a pass repeats until fewer are due. */
const NUDGE_BATCH = 5000;

/**
 * Closes the loop on acks. Agents acknowledge with a plain publish (captured by the reports
 * stream), and a notice is a plain publish too, so either can be lost: NATS was restarting, the
 * node was briefly away. In the elected replica, every `intervalMs` this finds nodes whose desired
 * state is older than the grace period and still unacknowledged, and sends the notice again
 * (without the bundle: the agent re-acks what it already has, or fetches). A node that reported a
 * failure for exactly that content is not nudged (it answered); an offline node is nudged again
 * with exponential backoff. A new desired state resets the backoff.
 */
@Injectable()
export class Nudger {
  private readonly logger = new JsonLogger('config', 'nudger');
  private loop?: ElectedLoop;

  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
    @Inject(RevisionStore) private readonly store: RevisionStore,
    @Inject(DesiredStateService) private readonly desired: DesiredStateService,
  ) {}

  start(): void {
    this.loop = new ElectedLoop({
      url: this.settings.databaseUrl,
      name: 'config:nudge',
      retryMs: this.settings.leaderRetryMs,
      periodMs: this.settings.nudge.intervalMs,
      pass: async () => {
        await this.pass();
      },
      onError: (err) => this.logger.warn('nudge pass failed', { error: err.message }),
    });
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass: re-notices every node that is due; returns how many. */
  async pass(): Promise<number> {
    // A replica that died while rewriting every node's desired rows left them behind the
    // deployment; after a generous wait, this replica recomputes them (unchanged rows cost nothing).
    const d = await this.store.deployment();
    if (d.generation > d.reconciledGeneration && Date.now() - d.generationAt.getTime() > Math.max(60_000, 2 * this.settings.nudge.intervalMs)) {
      this.logger.warn('desired state lags the deployment; recomputing it', { generation: d.generation, reconciled: d.reconciledGeneration });
      await this.desired.requestReconcile();
    }
    let total = 0;
    for (;;) {
      const due = await this.claimDue();
      for (const n of due) {
        this.bus.nc.publish(this.bus.subjects.node(n.node_id, CONFIG_NOTICE_TOPIC), noticeBytes(n.desired_revision, n.desired_hash));
      }
      await this.bus.nc.flush();
      nudged.inc(due.length);
      total += due.length;
      if (due.length < NUDGE_BATCH) break;
    }
    if (total) this.logger.info('re-sent desired state to nodes without an ack', { nodes: total });
    return total;
  }

  /**
   * Marks the due nodes as nudged and returns them, in one statement. Rows a publish is rewriting
   * right now are skipped (SKIP LOCKED): that publish notifies them anyway.
   */
  private claimDue(): Promise<Array<{ node_id: string; desired_revision: number; desired_hash: string }>> {
    const { graceMs, maxBackoffMs } = this.settings.nudge;
    return this.db.query(
      `UPDATE "config"."nodes" t SET "nudged_at" = now(), "nudges" = t."nudges" + 1
       FROM (
         SELECT n."node_id" FROM "config"."nodes" n LEFT JOIN "config"."node_reports" r USING ("node_id")
         WHERE n."desired_revision" IS NOT NULL
           -- Not while a deployment change is still being written to the rows: a stale nudge could
           -- overtake the new notice.
           AND (SELECT d."generation" = d."reconciled_generation" FROM "config"."deployment" d WHERE d."id" = 1)
           AND n."desired_at" < now() - make_interval(secs => $1 / 1000.0)
           AND ${UNANSWERED_SQL}
           AND (n."nudged_at" IS NULL
                OR n."nudged_at" < now() - make_interval(secs => least($1 * power(2, least(n."nudges", 30)), $2) / 1000.0))
         ORDER BY n."node_id"
         LIMIT $3
         FOR NO KEY UPDATE OF n SKIP LOCKED
       ) due
       WHERE t."node_id" = due."node_id"
       RETURNING t."node_id", t."desired_revision", t."desired_hash"`,
      [graceMs, maxBackoffMs, NUDGE_BATCH],
    );
  }
}

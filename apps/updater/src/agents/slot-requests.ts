import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { JsonLogger, OncePerCause } from '#lib/telemetry';
import { UPDATER_DB } from '../common/tokens.js';
import { SEEN_RESOLUTION_MAX_SECONDS, SEEN_RESOLUTION_SHARE } from '../rollouts/node-deadline.js';

/** How often the nodes seen asking are written (one statement per replica per flush). */
const FLUSH_MS = 250;

/**
 * Records that a node asked for its reboot slot, which is how a node in `awaiting_reboot` shows
 * it is still alive (it reports that state once, then only asks). Thousands of waiting nodes
 * ask every few seconds, so requests are not written one by one: the ids collect in memory and
 * one statement per flush touches the waiting rows of open rollouts, each at most every
 * `seenResolutionSeconds` (30 s, or a quarter of its rollout's deadline if shorter), which the
 * deadline allows for.
 */
@Injectable()
export class SlotRequests implements OnApplicationShutdown {
  private readonly problems = new OncePerCause(new JsonLogger('updater', 'slot-requests'));
  private pending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(@Inject(UPDATER_DB) private readonly db: DataSource) {}

  note(nodeId: string): void {
    if (this.closed) return;
    this.pending.add(nodeId);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what was noted so far (also at shutdown; tests call it to skip the wait). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = [...this.pending];
    this.pending = new Set();
    if (ids.length > 0) this.flushing = this.flushing.then(() => this.write(ids));
    return this.flushing;
  }

  private async write(ids: string[]): Promise<void> {
    try {
      await this.db.query(
        `UPDATE "updater"."rollout_nodes" n SET seen_at = now()
           FROM "updater"."rollouts" r
          WHERE n.node_id = ANY($1::text[]) AND n.state = 'awaiting_reboot'
            AND r.id = n.rollout_id AND r.ended_at IS NULL
            AND n.seen_at < now() - make_interval(secs => least(${SEEN_RESOLUTION_MAX_SECONDS}, r.reboot_wait_timeout_seconds * ${SEEN_RESOLUTION_SHARE}))`,
        [ids],
      );
    } catch (err) {
      // Not retried: the node's next request notes it again.
      this.problems.warn('write', 'could not record reboot-slot requests', { error: (err as Error).message, nodes: ids.length });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}

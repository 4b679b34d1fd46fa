import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { matchAllNodes, type MatchedNode, type MessageBus } from '#lib/messaging';
import { UPDATER_BUS, UPDATER_DB, UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';
import { bucketOf, waveOf } from '../rollouts/waves.js';
import { wavePercents, type RolloutRow } from '../rollouts/rollout-row.js';

const N = '"updater"."rollout_nodes"';
type TargetNode = MatchedNode;
/** Nodes per `match` page: ~100 bytes each, well inside a 1 MiB NATS message even with labels. */
const MATCH_PAGE = 2000;

/**
 * Resolves a rollout's target to nodes through the inventory's `match` verb (services never read
 * each other's tables) and records them with their stable bucket and wave. Re-running it adds
 * nodes that joined since and refreshes whether each is online; it never moves a node that has
 * already been offered the update.
 */
@Injectable()
export class Membership {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
  ) {}

  /** The target's nodes, through the inventory's `match` verb in pages (any fleet size fits). */
  async resolve(r: RolloutRow): Promise<TargetNode[]> {
    const nodes: TargetNode[] = await matchAllNodes(
      this.bus,
      {
        ...(r.target.selector ? { selector: r.target.selector } : {}),
        ...(r.target.groups.length ? { groups: r.target.groups } : {}),
        channel: r.target.channel,
        arch: r.arch,
      },
      { pageSize: MATCH_PAGE, timeoutMs: this.env.UPDATER_INVENTORY_TIMEOUT_MS },
    );
    return nodes;
  }

  async refresh(r: RolloutRow): Promise<number> {
    const nodes = await this.resolve(r);
    const waves = wavePercents(r);
    const buckets = nodes.map((n) => bucketOf(n.id));
    await this.db.query(
      `INSERT INTO ${N} (rollout_id, node_id, "group", bucket, wave, online, state, state_at, target_version)
       SELECT $1, n.id, n.grp, n.bucket, n.wave, n.online, 'pending', now(), $7
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::boolean[]) AS n(id, grp, bucket, wave, online)
       ON CONFLICT (rollout_id, node_id) DO UPDATE SET
         online = EXCLUDED.online,
         "group" = CASE WHEN ${N}.activated_at IS NULL THEN EXCLUDED."group" ELSE ${N}."group" END,
         -- a node that comes back online gets a fresh timeout to pick its update up
         state_at = CASE WHEN ${N}.state = 'pending' AND NOT ${N}.online AND EXCLUDED.online THEN now() ELSE ${N}.state_at END`,
      [
        r.id,
        nodes.map((n) => n.id),
        nodes.map((n) => n.group),
        buckets,
        buckets.map((b) => (r.strategy.type === 'waves' ? waveOf(b, waves) : 0)),
        nodes.map((n) => n.status === 'online'),
        r.version,
      ],
    );
    await this.db.query(
      `INSERT INTO "updater"."rollout_groups" (rollout_id, "group") SELECT $1, g FROM unnest($2::text[]) AS g ON CONFLICT DO NOTHING`,
      [r.id, [...new Set(nodes.map((n) => n.group))]],
    );
    await this.db.query(`UPDATE "updater"."rollouts" SET members_refreshed_at = now() WHERE id = $1`, [r.id]);
    return nodes.length;
  }
}

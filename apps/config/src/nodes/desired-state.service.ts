import { Inject, Injectable } from '@nestjs/common';
import { FleetError } from '#contracts/common';
import { CONFIG_NOTICE_TOPIC, type Bundle, type ConfigFile } from '#contracts/config';
import { INVENTORY, inventoryVerbs, type NodeView } from '#contracts/inventory';
import { MessageBus } from '#lib/messaging';
import { JsonLogger, counter, histogram } from '#lib/telemetry';
import { Db } from '../database/data-source.js';
import { inCanary } from '../logic/canary.js';
import type { CompiledConfigSet, NodeFacts } from '../logic/merge.js';
import { RevisionStore, type DeploymentState } from '../revisions/revision-store.js';
import { CONFIG_SETTINGS, type ConfigSettings } from '../settings.js';
import { Batcher } from './batcher.js';
import { noticeBytes } from './notice.js';

interface Change {
  nodeId: string;
  revision: number;
  hash: string;
  canary: boolean;
  files: ConfigFile[];
}

interface NodeRow {
  node_id: string;
  group: string;
  labels: Record<string, string>;
  desired_revision: number | null;
  desired_hash: string | null;
  canary: boolean;
}

/** Nodes whose desired state is stored and announced per statement. */
const NOTICE_CHUNK = 1000;

const notices = counter('fleet_config_notices_total', 'Desired-state notices sent to agents');
const reconcileSeconds = histogram('fleet_config_reconcile_seconds', 'Time to recompute desired state for a set of nodes', ['scope']);
const bundles = counter('fleet_config_bundles_total', 'Effective bundles served to agents', ['result']);

/**
 * Level-triggered desired state: for every known node, the (revision, hash) it should have,
 * recomputed from its facts and the deployment (stable revision, canary) whenever either changes,
 * stored in PostgreSQL, and announced to the node on `<root>.node.<id>.config`. An agent that
 * missed the notice fetches the same answer at start or reconnect, so nothing depends on one
 * message arriving. All recomputations in one process run one at a time.
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new JsonLogger('config', 'desired');
  private queue: Promise<unknown> = Promise.resolve();
  private fullPending = false;
  private readonly rows = new Batcher<string, NodeRow>((ids) => this.loadRows(ids));
  /** One deployment read per burst of bundle requests (the key is irrelevant). */
  private readonly deployments = new Batcher<number, DeploymentState>(async () => new Map([[0, await this.store.deployment()]]), 3, 1_000_000);
  /** Nodes asking before their registration event arrived: facts fetched and stored in bulk. */
  private readonly newcomers = new Batcher<string, true>((ids) => this.learn(ids), 20, 1000);

  private readonly inlineCache = new Map<string, string | null>();

  constructor(
    @Inject(Db) private readonly db: Db,
    @Inject(RevisionStore) private readonly store: RevisionStore,
    @Inject(MessageBus) private readonly bus: MessageBus,
    @Inject(CONFIG_SETTINGS) private readonly settings: ConfigSettings,
  ) {}

  /** Schedules a recomputation for every node; requests arriving meanwhile coalesce into one. */
  requestReconcile(): Promise<void> {
    if (this.fullPending) return this.idle();
    this.fullPending = true;
    return this.enqueue(async () => {
      this.fullPending = false;
      await this.reconcile(null);
    });
  }

  /** Resolves once every queued recomputation has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /** Stores the facts of nodes (from inventory events or a resync) and recomputes their desired state. */
  upsertFacts(facts: NodeFacts[]): Promise<void> {
    if (facts.length === 0) return Promise.resolve();
    return this.enqueue(async () => {
      await this.db.query(
        `INSERT INTO "config"."nodes" ("node_id", "group", "labels", "facts_at")
         SELECT i, g, l::jsonb, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS t(i, g, l)
         ON CONFLICT ("node_id") DO UPDATE SET "group" = EXCLUDED."group", "labels" = EXCLUDED."labels", "facts_at" = now()`,
        [facts.map((f) => f.nodeId), facts.map((f) => f.group), facts.map((f) => JSON.stringify(f.labels))],
      );
      await this.reconcile(facts.map((f) => f.nodeId));
    });
  }

  /** Forgets decommissioned nodes, in turn with the facts updates (never overtaking one). */
  removeNodes(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.enqueue(async () => {
      await this.db.query('DELETE FROM "config"."nodes" WHERE "node_id" = ANY($1::text[])', [ids]);
    });
  }

  /**
   * After a full resync: forgets nodes the inventory no longer has that were last refreshed
   * before the resync began (a decommission event missed, or a resync's stale list that put a
   * just-removed node back). Returns how many.
   */
  pruneNodes(keep: string[], refreshedBefore: Date): Promise<number> {
    return this.enqueue(async () => {
      const gone = await this.db.query<{ node_id: string }>(
        'DELETE FROM "config"."nodes" WHERE "facts_at" < $1 AND NOT ("node_id" = ANY($2::text[])) RETURNING "node_id"',
        [refreshedBefore, keep],
      );
      return gone.length;
    });
  }

  /**
   * The effective bundle of one node, computed from its stored facts and the deployment as it is
   * now (read once per batch of requests), so an agent always gets the current truth even while
   * the stored desired rows are still being rewritten after a publish.
   */
  async bundleFor(nodeId: string): Promise<Bundle> {
    let row = await this.rows.get(nodeId);
    if (!row) {
      if (!(await this.newcomers.get(nodeId))) throw new FleetError('not_found', `the inventory knows no node ${nodeId}`);
      row = (await this.loadRows([nodeId])).get(nodeId);
      if (!row) throw new FleetError('unavailable', `no desired state for ${nodeId} yet`);
    }
    const deployment = await this.deployments.get(0);
    const { revision, compiled } = await this.target(deployment!, row);
    const eff = compiled.effective({ nodeId, group: row.group, labels: row.labels });
    bundles.inc({ result: 'ok' });
    return { v: 1, nodeId, revision, hash: eff.hash, files: eff.files };
  }

  /** The revision a node should be on, and that revision's compiled set. */
  private async target(d: DeploymentState, row: NodeRow): Promise<{ revision: number; canary: boolean; compiled: CompiledConfigSet }> {
    const canaryDef = d.canary ? (d.canary.percent !== null ? { percent: d.canary.percent } : { selector: d.canary.selector ?? '' }) : undefined;
    const isCanary = !!(d.canary && canaryDef && inCanary(canaryDef, { nodeId: row.node_id, group: row.group, labels: row.labels }));
    const revision = isCanary ? d.canary!.revision : d.stableRevision;
    return { revision, canary: isCanary, compiled: await this.store.compiled(revision) };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch((err: Error) => this.logger.error('desired-state recomputation failed', err));
    return run;
  }

  /** Recomputes `ids` (or every node), writes the changed rows in one statement, notifies them. */
  private async reconcile(ids: string[] | null): Promise<void> {
    const stop = reconcileSeconds.startTimer({ scope: ids ? 'nodes' : 'all' });
    const t0 = performance.now();
    const deployment = await this.store.deployment();
    const rows = ids
      ? [...(await this.loadRows(ids)).values()]
      : await this.db.query<NodeRow>('SELECT "node_id", "group", "labels", "desired_revision", "desired_hash", "canary" FROM "config"."nodes"');
    const t1 = performance.now();
    const changed = await this.compute(rows, deployment);
    const t2 = performance.now();
    // Bundles follow the deployment itself, not these rows, so every notice goes out first and
    // the rows (what status reports as desired) are written after, one statement per chunk.
    for (let start = 0; start < changed.length; start += NOTICE_CHUNK) {
      for (const c of changed.slice(start, start + NOTICE_CHUNK)) {
        this.bus.nc.publish(this.bus.subjects.node(c.nodeId, CONFIG_NOTICE_TOPIC), noticeBytes(c.revision, c.hash, this.inlineFiles(c)));
      }
      // Let the event loop breathe between chunks: the first nodes' acks are already arriving,
      // and storing them while later notices go out keeps them from queueing up behind the loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // One flush: a round trip per chunk would let the server's fan-out of one chunk delay the next.
    await this.bus.nc.flush();
    notices.inc(changed.length);
    const t3 = performance.now();
    for (let start = 0; start < changed.length; start += NOTICE_CHUNK) {
      const chunk = changed.slice(start, start + NOTICE_CHUNK);
      await this.db.query(
        `UPDATE "config"."nodes" n SET "desired_revision" = u.r, "desired_hash" = u.h, "canary" = u.c, "desired_at" = now(),
           "nudged_at" = NULL, "nudges" = 0
         FROM unnest($1::text[], $2::int[], $3::text[], $4::bool[]) AS u(i, r, h, c) WHERE n."node_id" = u.i`,
        [chunk.map((c) => c.nodeId), chunk.map((c) => c.revision), chunk.map((c) => c.hash), chunk.map((c) => c.canary)],
      );
    }
    // Every node's row now follows this deployment generation (a later one may be queued).
    if (!ids) {
      await this.db.query('UPDATE "config"."deployment" SET "reconciled_generation" = greatest("reconciled_generation", $1) WHERE "id" = 1', [deployment.generation]);
    }
    stop();
    if (!ids) {
      const ms = (a: number, b: number) => Math.round(b - a);
      this.logger.info('desired state recomputed', {
        nodes: rows.length,
        changed: changed.length,
        stable: deployment.stableRevision,
        canary: deployment.canary?.revision,
        loadMs: ms(t0, t1),
        computeMs: ms(t1, t2),
        noticeMs: ms(t2, t3),
        writeMs: ms(t3, performance.now()),
      });
    }
  }

  private async compute(rows: NodeRow[], d: DeploymentState): Promise<Change[]> {
    const out: Change[] = [];
    for (const row of rows) {
      const { revision, canary, compiled } = await this.target(d, row);
      const { hash, files } = compiled.effective({ nodeId: row.node_id, group: row.group, labels: row.labels });
      if (revision !== row.desired_revision || hash !== row.desired_hash || canary !== row.canary) {
        out.push({ nodeId: row.node_id, revision, hash, canary, files });
      }
    }
    return out;
  }

  /**
   * The files' JSON when the bundle is small enough to travel inline (one message instead of a
   * notice, a request and a reply per node), encoded once per distinct bundle, not per node.
   */
  private inlineFiles(c: Change): string | null {
    let inline = this.inlineCache.get(c.hash);
    if (inline === undefined) {
      const json = JSON.stringify(c.files);
      inline = Buffer.byteLength(json) <= this.settings.inlineNoticeBytes ? json : null;
      if (this.inlineCache.size > 10_000) this.inlineCache.clear();
      this.inlineCache.set(c.hash, inline);
    }
    return inline;
  }

  private async loadRows(ids: string[]): Promise<Map<string, NodeRow>> {
    const rows = await this.db.query<NodeRow>(
      'SELECT "node_id", "group", "labels", "desired_revision", "desired_hash", "canary" FROM "config"."nodes" WHERE "node_id" = ANY($1::text[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.node_id, r]));
  }

  private async learn(ids: string[]): Promise<Map<string, true>> {
    // At most 50 inventory requests in flight: a burst of 10,000 new agents must not time them out.
    const found: Array<NodeFacts | undefined> = [];
    for (let i = 0; i < ids.length; i += 50) {
      found.push(
        ...(await Promise.all(
          ids.slice(i, i + 50).map((id) =>
            this.factsFromInventory(id).catch((err: unknown) => {
              if (err instanceof FleetError && err.code === 'not_found') return undefined;
              throw err;
            }),
          ),
        )),
      );
    }
    const facts = found.filter((f): f is NodeFacts => f !== undefined);
    await this.upsertFacts(facts);
    return new Map(facts.map((f) => [f.nodeId, true as const]));
  }

  private async factsFromInventory(nodeId: string): Promise<NodeFacts> {
    const node = await this.bus.request<NodeView>(this.bus.subjects.svc(INVENTORY, inventoryVerbs.get), { id: nodeId }, 5000);
    return { nodeId: node.id, group: node.group, labels: node.labels };
  }
}

import { ElectedLoop } from '#lib/persistence';
import type { MessageBus } from '#lib/messaging';
import { DISCOVERY_REAPED_TOPIC, type ReapedNotice } from '#contracts/discovery';
import { counter, type JsonLogger } from '#lib/telemetry';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogStore } from '../catalog/catalog.store.js';
import { expireTtls, reapCritical } from '../catalog/transitions.js';
import type { InstanceRecord } from '../catalog/records.js';

const reaped = counter('fleet_discovery_reaped_total', 'Instances removed after being critical longer than deregisterCriticalAfter');
const expired = counter('fleet_discovery_ttl_expired_total', 'TTL checks that ran out without a report');

/**
 * Work done by one elected replica: TTL checks of API-registered instances that ran out turn
 * critical, and instances critical longer than their `deregisterCriticalAfter` are removed.
 * Both scan an index in PostgreSQL, so a new leader picks up exactly where the old one stopped.
 */
export class Reaper {
  private readonly loop: ElectedLoop;

  constructor(
    databaseUrl: string,
    private readonly store: CatalogStore,
    private readonly catalog: CatalogService,
    sweepMs: number,
    private readonly logger: JsonLogger,
    retryMs: number,
    private readonly bus: MessageBus,
  ) {
    this.loop = new ElectedLoop({
      url: databaseUrl,
      name: 'discovery:reaper',
      retryMs,
      periodMs: sweepMs,
      pass: () => this.sweep(),
      onError: (err) => this.logger.warn('sweep failed', { error: err.message }),
    });
  }

  get isLeader(): boolean {
    return this.loop.isLeader;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Tells each agent which of its services were reaped, so it stops registering them. */
  private notifyAgents(records: InstanceRecord[]): void {
    const byNode = new Map<string, string[]>();
    for (const r of records) {
      const serviceId = r.id.slice(r.nodeId!.length + 1);
      byNode.set(r.nodeId!, [...(byNode.get(r.nodeId!) ?? []), serviceId]);
    }
    for (const [nodeId, serviceIds] of byNode) {
      this.bus.publish(this.bus.subjects.node(nodeId, DISCOVERY_REAPED_TOPIC), { v: 1, serviceIds } satisfies ReapedNotice);
    }
  }

  /** One pass; exposed for tests. */
  async sweep(): Promise<void> {
    const now = new Date().toISOString();
    const due = await this.store.dueForTtl(now);
    if (due.length > 0) {
      const c = await this.catalog.commit({ ids: due }, (rows) => expireTtls(rows, now));
      expired.inc(c?.changes.length ?? 0);
    }
    const doomed = await this.store.dueForReap(now);
    if (doomed.length > 0) {
      let gone: InstanceRecord[] = [];
      const c = await this.catalog.commit({ ids: doomed }, (rows) => {
        const draft = reapCritical(rows, now);
        gone = draft.deletes;
        return draft;
      });
      if (c) {
        reaped.inc(c.changes.length);
        this.logger.info('deregistered critical instances', { instances: c.changes.map((x) => x.instanceId) });
        this.notifyAgents(gone.filter((r) => r.source === 'agent' && r.nodeId !== null));
      }
    }
  }
}

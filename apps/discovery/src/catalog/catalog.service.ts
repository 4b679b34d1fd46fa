import type { MessageBus } from '#lib/messaging';
import { counter, gauge, type JsonLogger } from '#lib/telemetry';
import { FleetError } from '#contracts/common';
import {
  DISCOVERY,
  serviceEvent,
  type InstanceChange,
  type ServiceChangedEvent,
} from '#contracts/discovery';
import type { CatalogCache } from './catalog.cache.js';
import type { CatalogStore, Committed, RowLock } from './catalog.store.js';
import { toView, type Draft, type InstanceRecord } from './records.js';
import type { Waiters } from './waiters.js';

const changesTotal = counter('fleet_discovery_changes_total', 'Catalog changes committed, by kind', ['kind']);
const instancesGauge = gauge('fleet_discovery_instances', 'Instances in this replica\'s catalog, by health', ['health']);
const eventsApplied = counter('fleet_discovery_events_applied_total', 'Change events from other replicas applied to the cache');

/** Changes per event message, so a node going offline with many instances stays under NATS's payload limit. */
const CHANGES_PER_EVENT = 200;

/**
 * The one path every change takes: PostgreSQL transaction → this replica's cache → wake
 * waiters → `<root>.events.discovery.service.<name>`, which the other replicas apply the same way.
 */
export class CatalogService {
  constructor(
    private readonly store: CatalogStore,
    readonly cache: CatalogCache,
    readonly waiters: Waiters,
    private readonly bus: MessageBus,
    private readonly logger: JsonLogger,
  ) {}

  async commit(lock: RowLock, decide: (rows: InstanceRecord[]) => Draft): Promise<Committed | null> {
    const committed = await this.store.transact(lock, decide);
    if (!committed) return null;
    const touched = new Set<string>();
    for (const c of committed.changes) {
      changesTotal.inc({ kind: c.kind });
      this.cache.apply({
        service: c.service,
        instanceId: c.instanceId,
        index: committed.index,
        instance: c.record ? toView(c.record) : null,
      });
      touched.add(c.service);
    }
    for (const s of touched) this.waiters.notify(s);
    await this.publish(committed);
    return committed;
  }

  private async publish(committed: Committed): Promise<void> {
    const byService = new Map<string, InstanceChange[]>();
    for (const c of committed.changes) {
      const list = byService.get(c.service) ?? [];
      list.push({
        kind: c.kind,
        instanceId: c.instanceId,
        index: committed.index,
        previousHealth: c.previousHealth,
        instance: c.record ? toView(c.record) : null,
      });
      byService.set(c.service, list);
    }
    const emits: Promise<unknown>[] = [];
    for (const [service, changes] of byService) {
      for (let i = 0; i < changes.length; i += CHANGES_PER_EVENT) {
        const data: ServiceChangedEvent = { service, index: committed.index, changes: changes.slice(i, i + CHANGES_PER_EVENT) };
        emits.push(
          this.bus.emit(DISCOVERY, serviceEvent(service), data, `discovery-${service}-${committed.index}-${i}`).catch((err: Error) => {
            // Other replicas converge at their next resync; the change itself is committed.
            this.logger.warn('could not emit change event', { service, index: committed.index, error: err.message });
          }),
        );
      }
    }
    await Promise.all(emits);
  }

  /** A change event from any replica (our own come back too and are ignored as not newer). */
  applyEvent(event: ServiceChangedEvent): void {
    let moved = false;
    for (const c of event.changes) {
      moved = this.cache.apply({ service: event.service, instanceId: c.instanceId, index: c.index, instance: c.instance }) || moved;
    }
    if (moved) eventsApplied.inc();
    this.waiters.notify(event.service);
  }

  async resync(): Promise<void> {
    const loaded = await this.store.loadAll();
    const touched = this.cache.replace(loaded.records.map(toView), loaded.services, loaded.index);
    for (const s of touched) this.waiters.notify(s);
    this.updateGauges();
  }

  updateGauges(): void {
    const counts = { passing: 0, warning: 0, critical: 0 };
    for (const i of this.cache.all()) counts[i.health]++;
    for (const [health, n] of Object.entries(counts)) instancesGauge.set({ health }, n);
  }

  async requireRecord(id: string): Promise<InstanceRecord> {
    const record = await this.store.get(id);
    if (!record) throw new FleetError('not_found', `no instance "${id}"`);
    return record;
  }
}

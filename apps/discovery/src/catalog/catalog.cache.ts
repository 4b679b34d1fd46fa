import { countByState, type InstanceView, type ServiceSummary } from '#contracts/discovery';

export interface CachedChange {
  service: string;
  instanceId: string;
  index: number;
  instance: InstanceView | null;
}

const MAX_TOMBSTONES = 50_000;

/**
 * Each replica's in-memory copy of the catalog, fed by its own commits and by the change
 * events of every replica. It answers queries, blocking queries and DNS without touching the
 * database. Changes are applied only when newer than what is held, so events may arrive late,
 * twice or out of order; a periodic resync from PostgreSQL repairs anything missed.
 */
export class CatalogCache {
  private readonly instances = new Map<string, InstanceView>();
  private readonly byService = new Map<string, Map<string, InstanceView>>();
  private readonly serviceIndexes = new Map<string, number>();
  private readonly tombstones = new Map<string, number>();
  private readonly summaries = new Map<string, ServiceSummary>();
  /** Each service's instances sorted by id, built on first read after a change. */
  private readonly sorted = new Map<string, InstanceView[]>();
  private globalIndex = 0;

  get index(): number {
    return this.globalIndex;
  }

  get size(): number {
    return this.instances.size;
  }

  get(id: string): InstanceView | undefined {
    return this.instances.get(id);
  }

  /** The service's own index: moves on every change of its membership or health. Never 0. */
  serviceIndex(service: string): number {
    return Math.max(1, this.serviceIndexes.get(service) ?? 0);
  }

  /** Sorted by id; undefined when no instance of the service is registered. */
  instancesOf(service: string): readonly InstanceView[] | undefined {
    const cached = this.sorted.get(service);
    if (cached) return cached;
    const m = this.byService.get(service);
    if (!m || m.size === 0) return undefined;
    const list = [...m.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.sorted.set(service, list);
    return list;
  }

  all(): Iterable<InstanceView> {
    return this.instances.values();
  }

  serviceNames(): string[] {
    return [...this.byService.entries()].filter(([, m]) => m.size > 0).map(([name]) => name);
  }

  summary(service: string): ServiceSummary | undefined {
    const cached = this.summaries.get(service);
    if (cached) return cached;
    const members = this.byService.get(service);
    if (!members || members.size === 0) return undefined;
    const tags = new Set<string>();
    for (const i of members.values()) for (const t of i.tags) tags.add(t);
    const summary: ServiceSummary = {
      name: service,
      tags: [...tags].sort(),
      instances: members.size,
      counts: countByState(members.values()),
      modifyIndex: this.serviceIndex(service),
    };
    this.summaries.set(service, summary);
    return summary;
  }

  /** Applies one change; returns whether anything visible moved. */
  apply(change: CachedChange): boolean {
    this.bump(change.service, change.index);
    const current = this.instances.get(change.instanceId);
    if (change.instance === null) {
      // The same transaction may delete and re-create an id (a rename): the re-creation wins.
      if (!current || current.modifyIndex >= change.index || current.service !== change.service) {
        this.tomb(change.instanceId, change.index);
        return false;
      }
      this.remove(current);
      this.tomb(change.instanceId, change.index);
      return true;
    }
    if (current && current.modifyIndex >= change.index) return false;
    const deletedAt = this.tombstones.get(change.instanceId);
    if (deletedAt !== undefined && deletedAt > change.index) return false;
    if (current) this.remove(current);
    this.put(change.instance);
    return true;
  }

  /**
   * Replaces the contents with a fresh load, keeping anything newer that arrived meanwhile.
   * Returns the services whose contents changed.
   */
  replace(records: InstanceView[], services: Map<string, number>, index: number): Set<string> {
    const touched = new Set<string>();
    const loaded = new Map(records.map((r) => [r.id, r]));
    for (const current of [...this.instances.values()]) {
      const fresh = loaded.get(current.id);
      if (!fresh && current.modifyIndex <= index) {
        this.remove(current);
        touched.add(current.service);
      }
    }
    for (const fresh of records) {
      const current = this.instances.get(fresh.id);
      if (current && current.modifyIndex >= fresh.modifyIndex) continue;
      if (current) this.remove(current);
      this.put(fresh);
      touched.add(fresh.service);
    }
    for (const [name, idx] of services) this.bump(name, idx);
    this.globalIndex = Math.max(this.globalIndex, index);
    return touched;
  }

  private bump(service: string, index: number): void {
    if (index > (this.serviceIndexes.get(service) ?? 0)) this.serviceIndexes.set(service, index);
    if (index > this.globalIndex) this.globalIndex = index;
    this.summaries.delete(service);
    this.sorted.delete(service);
  }

  private put(view: InstanceView): void {
    this.instances.set(view.id, view);
    let m = this.byService.get(view.service);
    if (!m) this.byService.set(view.service, (m = new Map()));
    m.set(view.id, view);
    this.summaries.delete(view.service);
    this.sorted.delete(view.service);
  }

  private remove(view: InstanceView): void {
    this.instances.delete(view.id);
    this.byService.get(view.service)?.delete(view.id);
    this.summaries.delete(view.service);
    this.sorted.delete(view.service);
  }

  private tomb(id: string, index: number): void {
    this.tombstones.delete(id);
    this.tombstones.set(id, index);
    if (this.tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.tombstones.keys().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
  }
}

import {
  DEFAULT_WAIT_MS,
  countByState,
  filterInstances,
  type InstanceView,
  type InstancesReply,
  type ListServicesReply,
  type ServiceSummary,
  type instancesQuerySchema,
  type listServicesSchema,
  type queryInstancesSchema,
  type InstanceFilter,
} from '#contracts/discovery';
import { FleetError } from '#contracts/common';
import type { z } from 'zod';
import { histogram } from '#lib/telemetry';
import type { CatalogCache } from './catalog.cache.js';
import type { NodeResolver } from './node-resolver.js';
import { ANY_SERVICE, indexMoved, type Waiters } from './waiters.js';

const blockedSeconds = histogram('fleet_discovery_blocking_seconds', 'How long blocking queries were parked', ['outcome'], [
  0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 600,
]);

type Filters = Pick<z.output<typeof queryInstancesSchema>, 'tags' | 'nodeSelector' | 'group' | 'nodeId' | 'passingOnly' | 'states'>;

const byId = (a: InstanceView, b: InstanceView) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Read side: answered from this replica's in-memory catalog; blocking queries park on `Waiters`. */
export class CatalogQueries {
  constructor(
    private readonly cache: CatalogCache,
    private readonly waiters: Waiters,
    private readonly nodes: NodeResolver,
  ) {}

  private async block(key: string, current: () => number, index: number | undefined, waitMs: number | undefined): Promise<void> {
    if (indexMoved(current(), index)) return;
    const stop = blockedSeconds.startTimer();
    const outcome = await this.waiters.wait([key], () => indexMoved(current(), index), waitMs ?? DEFAULT_WAIT_MS);
    stop({ outcome });
  }

  private async filterOf(q: Filters & { service?: string }): Promise<InstanceFilter> {
    return {
      service: q.service,
      tags: q.tags,
      group: q.group,
      nodeId: q.nodeId,
      passingOnly: q.passingOnly,
      states: q.states,
      nodes: q.nodeSelector ? await this.nodes.resolve(q.nodeSelector) : undefined,
    };
  }

  async instances(q: z.output<typeof instancesQuerySchema>): Promise<InstancesReply> {
    await this.block(q.service, () => this.cache.serviceIndex(q.service), q.index, q.waitMs);
    const members = this.cache.instancesOf(q.service) ?? [];
    const instances = filterInstances(members, await this.filterOf(q)); // already in id order
    return { index: this.cache.serviceIndex(q.service), instances };
  }

  async query(q: z.output<typeof queryInstancesSchema>): Promise<InstancesReply> {
    const source = q.service ? (this.cache.instancesOf(q.service) ?? []) : this.cache.all();
    const instances = filterInstances(source, await this.filterOf(q)).sort(byId).slice(0, q.limit);
    return { index: q.service ? this.cache.serviceIndex(q.service) : Math.max(1, this.cache.index), instances };
  }

  async list(q: z.output<typeof listServicesSchema>): Promise<ListServicesReply> {
    await this.block(ANY_SERVICE, () => Math.max(1, this.cache.index), q.index, q.waitMs);
    const services: ServiceSummary[] = [];
    for (const name of this.cache.serviceNames().sort()) {
      if (!q.tag && !q.group) {
        const s = this.cache.summary(name);
        if (s) services.push(s);
        continue;
      }
      const members = filterInstances(this.cache.instancesOf(name) ?? [], { tags: q.tag ? [q.tag] : undefined, group: q.group });
      if (members.length === 0) continue;
      const tags = [...new Set(members.flatMap((m) => m.tags))].sort();
      services.push({ name, tags, instances: members.length, counts: countByState(members), modifyIndex: this.cache.serviceIndex(name) });
    }
    return { index: Math.max(1, this.cache.index), services };
  }

  get(id: string): { index: number; instance: InstanceView } {
    const instance = this.cache.get(id);
    if (!instance) throw new FleetError('not_found', `no instance "${id}"`);
    return { index: this.cache.serviceIndex(instance.service), instance };
  }
}

import type { HealthState } from './checks.js';

/** The parts of an instance a query filters on. */
export interface FilterableInstance {
  service: string;
  nodeId: string | null;
  group: string;
  tags: readonly string[];
  health: HealthState;
}

export interface InstanceFilter {
  service?: string;
  tags?: readonly string[];
  group?: string;
  nodeId?: string;
  passingOnly?: boolean;
  states?: readonly HealthState[];
  /**
   * Nodes whose labels match the query's node selector, resolved by the caller (the inventory
   * owns labels). Undefined means no node selector; instances off the fleet never match one.
   */
  nodes?: ReadonlySet<string>;
}

/** Tags compare case-insensitively, as DNS labels do, so API and DNS agree. */
export function hasTags(instanceTags: readonly string[], wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  const have = new Set(instanceTags.map((t) => t.toLowerCase()));
  return wanted.every((t) => have.has(t.toLowerCase()));
}

export function matchesInstanceFilter(instance: FilterableInstance, filter: InstanceFilter): boolean {
  if (filter.service !== undefined && instance.service !== filter.service) return false;
  if (filter.group !== undefined && instance.group !== filter.group) return false;
  if (filter.nodeId !== undefined && instance.nodeId !== filter.nodeId) return false;
  if (filter.passingOnly && instance.health !== 'passing') return false;
  if (filter.states && filter.states.length > 0 && !filter.states.includes(instance.health)) return false;
  if (filter.nodes && (instance.nodeId === null || !filter.nodes.has(instance.nodeId))) return false;
  if (filter.tags && !hasTags(instance.tags, filter.tags)) return false;
  return true;
}

export function filterInstances<T extends FilterableInstance>(instances: Iterable<T>, filter: InstanceFilter): T[] {
  const out: T[] = [];
  for (const i of instances) if (matchesInstanceFilter(i, filter)) out.push(i);
  return out;
}

/** Instance counts by state per service, for the services list. */
export function countByState(instances: Iterable<{ health: HealthState }>): Record<HealthState, number> {
  const counts: Record<HealthState, number> = { passing: 0, warning: 0, critical: 0 };
  for (const i of instances) counts[i.health]++;
  return counts;
}

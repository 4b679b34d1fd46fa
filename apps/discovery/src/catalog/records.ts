import { createHash } from 'node:crypto';
import {
  aggregateHealth,
  type HealthState,
  type InstanceSource,
  type InstanceView,
  type ResolvedCheck,
} from '#contracts/discovery';

/** One check as stored: its definition plus the last observed state. */
export interface CheckRecord {
  id: string;
  type: ResolvedCheck['type'];
  name: string;
  definition: Record<string, unknown>;
  status: HealthState;
  output: string;
  updatedAt: string;
  /** TTL checks of instances no agent manages: when the service's last report runs out. */
  expiresAt: string | null;
}

/** An instance as stored in `discovery.instances` (and as a transaction sees it). */
export interface InstanceRecord {
  id: string;
  service: string;
  nodeId: string | null;
  source: InstanceSource;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  group: string;
  checks: CheckRecord[];
  nodeOffline: boolean;
  health: HealthState;
  criticalSince: string | null;
  deregisterCriticalAfterMs: number | null;
  createIndex: number;
  modifyIndex: number;
  registeredAt: string;
  updatedAt: string;
  /** Hash of what was registered; an identical re-registration changes nothing. */
  definitionHash: string;
}

export type ChangeKind = 'registered' | 'updated' | 'health' | 'deregistered';

/** What a transaction decided, before the store gives it an index. */
export interface Draft {
  upserts: { record: InstanceRecord; kind: Exclude<ChangeKind, 'deregistered'>; previousHealth: HealthState | null }[];
  deletes: InstanceRecord[];
  /** Writes that change no visible state (a TTL refresh) and so take no new index. */
  quiet?: InstanceRecord[];
}

export const emptyDraft = (): Draft => ({ upserts: [], deletes: [] });

export function isEmptyDraft(d: Draft): boolean {
  return d.upserts.length === 0 && d.deletes.length === 0 && (d.quiet?.length ?? 0) === 0;
}

/** Canonical JSON: keys sorted, so equal definitions hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashDefinition(def: unknown): string {
  return createHash('sha256').update(canonical(def)).digest('hex').slice(0, 32);
}

/**
 * `updatedAt` of a check never observed: any report is newer, even one an agent made just before
 * its registration was committed (clocks of agent and service are compared, never trusted more).
 */
export const NEVER_CHECKED = '1970-01-01T00:00:00.000Z';

export function newCheck(check: ResolvedCheck): CheckRecord {
  const { id, name, type, ...definition } = check;
  return {
    id,
    type,
    name: name ?? `${type} check`,
    definition: definition as Record<string, unknown>,
    status: 'critical',
    output: 'not yet checked',
    updatedAt: NEVER_CHECKED,
    expiresAt: null,
  };
}

/**
 * Recomputes what follows from the checks: health, since when critical, and how long a
 * critical instance may stay (the shortest `deregisterCriticalAfter` of its checks).
 */
export function settle(record: InstanceRecord, now: string): InstanceRecord {
  const health = aggregateHealth(record.checks, record.nodeOffline);
  const afters = record.checks
    .map((c) => c.definition.deregisterCriticalAfter)
    .filter((v): v is number => typeof v === 'number');
  return {
    ...record,
    health,
    criticalSince: health === 'critical' ? (record.criticalSince ?? now) : null,
    deregisterCriticalAfterMs: afters.length > 0 ? Math.min(...afters) : null,
  };
}

/** When the reaper may remove the instance, if ever. */
export function reapAt(record: InstanceRecord): string | null {
  if (record.criticalSince === null || record.deregisterCriticalAfterMs === null) return null;
  return new Date(Date.parse(record.criticalSince) + record.deregisterCriticalAfterMs).toISOString();
}

/** Earliest expiry among TTL checks that are not already critical. */
export function ttlDeadline(record: InstanceRecord): string | null {
  let min: string | null = null;
  for (const c of record.checks) {
    if (c.expiresAt && c.status !== 'critical' && (min === null || c.expiresAt < min)) min = c.expiresAt;
  }
  return min;
}

export function toView(r: InstanceRecord): InstanceView {
  return {
    id: r.id,
    service: r.service,
    nodeId: r.nodeId,
    source: r.source,
    address: r.address,
    port: r.port,
    tags: r.tags,
    meta: r.meta,
    group: r.group,
    checks: r.checks.map((c) => ({
      id: c.id,
      type: c.type,
      name: c.name,
      status: c.status,
      output: c.output,
      updatedAt: c.updatedAt,
      definition: c.definition,
    })),
    nodeOffline: r.nodeOffline,
    health: r.health,
    criticalSince: r.criticalSince,
    deregisterCriticalAfterMs: r.deregisterCriticalAfterMs,
    createIndex: r.createIndex,
    modifyIndex: r.modifyIndex,
    registeredAt: r.registeredAt,
    updatedAt: r.updatedAt,
  };
}

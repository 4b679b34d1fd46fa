import {
  FleetError,
} from '#contracts/common';
import {
  agentInstanceId,
  resolveCheckIds,
  type AgentRegister,
  type CheckDefinition,
  type HealthState,
  type agentRegisterSchema,
  type checkReportSchema,
  type registerInstanceSchema,
  type ttlUpdateSchema,
} from '#contracts/discovery';
import type { z } from 'zod';
import {
  emptyDraft,
  hashDefinition,
  newCheck,
  settle,
  type CheckRecord,
  type Draft,
  type InstanceRecord,
} from './records.js';

/**
 * Pure decisions of the catalog: given the rows a transaction locked and an input, what to
 * write. The store assigns the change index; nothing here touches the database.
 */

/** What a registration says of an instance: its stored identity fields, with check definitions. */
type Registration = Pick<InstanceRecord, 'id' | 'service' | 'nodeId' | 'source' | 'address' | 'port' | 'tags' | 'meta' | 'group'> & {
  checks: CheckDefinition[];
};

function definitionHash(reg: Registration): string {
  const { id: _id, ...rest } = reg;
  return hashDefinition(rest);
}

/** Builds the record for a registration, keeping the state of checks that kept id and type. */
function register(reg: Registration, existing: InstanceRecord | undefined, now: string, draft: Draft): void {
  const hash = definitionHash(reg);
  if (existing && existing.definitionHash === hash) {
    if (existing.nodeOffline && reg.source === 'agent') {
      // The agent registering again proves its node is alive.
      const record = settle({ ...existing, nodeOffline: false, updatedAt: now }, now);
      draft.upserts.push({ record, kind: 'health', previousHealth: existing.health });
    }
    return;
  }
  const previous = new Map((existing?.checks ?? []).map((c) => [c.id, c]));
  const checks: CheckRecord[] = resolveCheckIds(reg.checks).map((def) => {
    const fresh = newCheck(def);
    const old = previous.get(def.id);
    return old && old.type === def.type
      ? { ...fresh, status: old.status, output: old.output, updatedAt: old.updatedAt, expiresAt: old.expiresAt }
      : fresh;
  });
  const record = settle(
    {
      id: reg.id,
      service: reg.service,
      nodeId: reg.nodeId,
      source: reg.source,
      address: reg.address,
      port: reg.port,
      tags: reg.tags,
      meta: reg.meta,
      group: reg.group,
      checks,
      nodeOffline: reg.source === 'agent' ? false : (existing?.nodeOffline ?? false),
      health: 'critical',
      criticalSince: existing?.criticalSince ?? null,
      deregisterCriticalAfterMs: null,
      createIndex: existing?.createIndex ?? 0,
      modifyIndex: existing?.modifyIndex ?? 0,
      registeredAt: existing?.registeredAt ?? now,
      updatedAt: now,
      definitionHash: hash,
    },
    now,
  );
  if (existing && existing.service !== record.service) {
    // Renamed in place: gone from the old service, new in the other.
    draft.deletes.push(existing);
    draft.upserts.push({ record: { ...record, createIndex: 0 }, kind: 'registered', previousHealth: null });
    return;
  }
  draft.upserts.push({ record, kind: existing ? 'updated' : 'registered', previousHealth: existing?.health ?? null });
}

/** Ids an agent registration touches: for locking before `applyAgentRegistration`. */
export function agentRegistrationIds(nodeId: string, input: z.output<typeof agentRegisterSchema>): string[] {
  return input.services.map((s) => agentInstanceId(nodeId, s.id ?? s.name));
}

/**
 * The full set of an agent's services: registers new ones, updates changed ones, leaves
 * identical ones alone and removes the node's agent instances no longer defined.
 */
export function applyAgentRegistration(
  existing: InstanceRecord[],
  nodeId: string,
  input: z.output<typeof agentRegisterSchema> | AgentRegister,
  now: string,
): Draft {
  const draft = emptyDraft();
  const byId = new Map(existing.map((r) => [r.id, r]));
  const wanted = new Set<string>();
  for (const def of input.services) {
    const id = agentInstanceId(nodeId, def.id ?? def.name);
    if (wanted.has(id)) throw new FleetError('validation_failed', `service id "${def.id ?? def.name}" is defined twice`);
    wanted.add(id);
    register(
      {
        id,
        service: def.name,
        nodeId,
        source: 'agent',
        address: def.address,
        port: def.port,
        tags: def.tags ?? [],
        meta: def.meta ?? {},
        group: input.group ?? 'default',
        checks: (def.checks ?? []) as CheckDefinition[],
      },
      byId.get(id),
      now,
      draft,
    );
  }
  for (const r of existing) {
    if (r.nodeId === nodeId && r.source === 'agent' && !wanted.has(r.id)) draft.deletes.push(r);
  }
  return draft;
}

export function apiInstanceId(input: { id?: string; name: string; address: string; port: number }): string {
  return input.id ?? `${input.name}@${input.address}:${input.port}`;
}

export function applyApiRegistration(
  existing: InstanceRecord | undefined,
  input: z.output<typeof registerInstanceSchema>,
  now: string,
): Draft {
  const id = apiInstanceId(input);
  if (existing?.source === 'agent') {
    throw new FleetError('conflict', `instance "${id}" is managed by the agent on node ${existing.nodeId}`);
  }
  const draft = emptyDraft();
  register(
    {
      id,
      service: input.name,
      nodeId: input.nodeId ?? null,
      source: input.source,
      address: input.address,
      port: input.port,
      tags: input.tags,
      meta: input.meta,
      group: input.group,
      checks: input.checks,
    },
    existing,
    now,
    draft,
  );
  return draft;
}

type Report = z.output<typeof checkReportSchema>;

/** Folds an agent's check reports in; older observations than the stored one are ignored. */
export function applyCheckReports(existing: InstanceRecord[], nodeId: string, reports: Report[], now: string): Draft {
  const draft = emptyDraft();
  const byId = new Map(existing.map((r) => [r.id, r]));
  const changed = new Map<string, InstanceRecord>();
  for (const report of reports) {
    const id = agentInstanceId(nodeId, report.serviceId);
    const record = changed.get(id) ?? byId.get(id);
    if (!record) continue;
    const idx = record.checks.findIndex((c) => c.id === report.checkId);
    if (idx < 0) continue;
    const check = record.checks[idx];
    if (report.at < check.updatedAt || report.status === check.status) continue;
    const checks = record.checks.slice();
    checks[idx] = { ...check, status: report.status, output: report.output, updatedAt: report.at };
    changed.set(id, { ...record, checks, updatedAt: now });
  }
  for (const [id, record] of changed) {
    const before = byId.get(id)!;
    draft.upserts.push({ record: settle(record, now), kind: 'health', previousHealth: before.health });
  }
  return draft;
}

/** An instance's checks as the cache shows them. */
export type CheckLookup = (id: string) => { checks: { id: string; status: HealthState }[] } | undefined;

/** True when reports would change nothing the cache shows (the cheap path for summaries). */
export function reportsChangeNothing(lookup: CheckLookup, nodeId: string, reports: Report[]): boolean {
  return reports.every((r) => {
    const instance = lookup(agentInstanceId(nodeId, r.serviceId));
    const check = instance?.checks.find((c) => c.id === r.checkId);
    return !check || check.status === r.status;
  });
}

/**
 * The reports of a batch worth a transaction: each node's checks in stream order, for the nodes
 * with at least one report that changes what the cache shows. A node's reports are skipped or
 * folded together, never picked one by one: a report that brings a check back to the cached
 * status after one that changed it (a flap, or a backlog replayed into one batch) must still win
 * by its `at`, not be dropped as "unchanged" and leave the older state until the next summary.
 */
export function reportsToWrite(lookup: CheckLookup, reports: Array<{ nodeId: string; checks: Report[] }>): Map<string, Report[]> {
  const byNode = new Map<string, Report[]>();
  for (const r of reports) {
    const list = byNode.get(r.nodeId) ?? [];
    list.push(...r.checks);
    byNode.set(r.nodeId, list);
  }
  for (const [nodeId, checks] of byNode) if (reportsChangeNothing(lookup, nodeId, checks)) byNode.delete(nodeId);
  return byNode;
}

export function applyTtlUpdate(existing: InstanceRecord | undefined, input: z.output<typeof ttlUpdateSchema>, now: string): Draft {
  if (!existing) throw new FleetError('not_found', `no instance "${input.instanceId}"`);
  const idx = existing.checks.findIndex((c) => c.id === input.checkId);
  const check = existing.checks[idx];
  if (!check) throw new FleetError('not_found', `instance "${input.instanceId}" has no check "${input.checkId}"`);
  if (check.type !== 'ttl' || existing.source === 'agent') {
    throw new FleetError('conflict', `check "${input.checkId}" is not a TTL check the platform tracks`);
  }
  const ttl = Number(check.definition.ttl);
  const checks = existing.checks.slice();
  const expiresAt = new Date(Date.parse(now) + ttl).toISOString();
  checks[idx] = { ...check, status: input.status, output: input.output, updatedAt: now, expiresAt };
  const record = settle({ ...existing, checks, updatedAt: now }, now);
  const draft = emptyDraft();
  if (check.status === input.status) draft.quiet = [record];
  else draft.upserts.push({ record, kind: 'health', previousHealth: existing.health });
  return draft;
}

/** TTL checks whose report ran out turn critical. */
export function expireTtls(existing: InstanceRecord[], now: string): Draft {
  const draft = emptyDraft();
  for (const record of existing) {
    let hit = false;
    const checks = record.checks.map((c) => {
      if (c.expiresAt === null || c.status === 'critical' || c.expiresAt > now) return c;
      hit = true;
      return { ...c, status: 'critical' as const, output: `TTL of ${String(c.definition.ttl)} ms expired without a report`, updatedAt: now };
    });
    if (hit) draft.upserts.push({ record: settle({ ...record, checks, updatedAt: now }, now), kind: 'health', previousHealth: record.health });
  }
  return draft;
}

export function applyNodeStatus(existing: InstanceRecord[], offline: boolean, now: string): Draft {
  const draft = emptyDraft();
  for (const record of existing) {
    if (record.nodeOffline === offline) continue;
    draft.upserts.push({ record: settle({ ...record, nodeOffline: offline, updatedAt: now }, now), kind: 'health', previousHealth: record.health });
  }
  return draft;
}

/** Instances critical for longer than their `deregisterCriticalAfter`. */
export function reapCritical(existing: InstanceRecord[], now: string): Draft {
  const draft = emptyDraft();
  const t = Date.parse(now);
  for (const r of existing) {
    if (r.criticalSince && r.deregisterCriticalAfterMs !== null && Date.parse(r.criticalSince) + r.deregisterCriticalAfterMs <= t) {
      draft.deletes.push(r);
    }
  }
  return draft;
}

import type { Health, NodeStatus, NodeView } from '#contracts/inventory';

/** Columns every node read selects, as `n.<col>`; `toNodeView` maps one such row. */
export const NODE_COLUMNS = [
  'id',
  'hostname',
  'labels',
  'group',
  'channel',
  'arch',
  'os_name',
  'os_version',
  'kernel',
  'booted_slot',
  'agent_version',
  'runtimes',
  'boot_id',
  'status',
  'health',
  'uptime_seconds',
  'load1',
  'load5',
  'load15',
  'memory_total_bytes',
  'memory_available_bytes',
  'disk_total_bytes',
  'disk_available_bytes',
  'registered_at',
  'last_seen_at',
  'updated_at',
]
  .map((c) => `n."${c}"`)
  .join(', ');

export interface NodeRow {
  id: string;
  hostname: string;
  labels: Record<string, string>;
  group: string;
  channel: string;
  arch: string;
  os_name: string;
  os_version: string;
  kernel: string;
  booted_slot: 'a' | 'b' | null;
  agent_version: string;
  runtimes: NodeView['runtimes'];
  boot_id: string | null;
  status: NodeStatus;
  health: Health;
  uptime_seconds: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  memory_total_bytes: string | null;
  memory_available_bytes: string | null;
  disk_total_bytes: string | null;
  disk_available_bytes: string | null;
  registered_at: Date;
  last_seen_at: Date;
  updated_at: Date;
}

const num = (v: string | number | null): number => Number(v ?? 0);

/** A node row read as JSON (`to_jsonb(n)` in a RETURNING clause): timestamps arrive as strings. */
export function nodeRowFromJson(json: Record<string, unknown>): NodeRow {
  return {
    ...(json as unknown as NodeRow),
    registered_at: new Date(json.registered_at as string),
    last_seen_at: new Date(json.last_seen_at as string),
    updated_at: new Date(json.updated_at as string),
  };
}

export function toNodeView(row: NodeRow): NodeView {
  return {
    id: row.id,
    hostname: row.hostname,
    labels: row.labels,
    group: row.group,
    channel: row.channel,
    arch: row.arch,
    os: { name: row.os_name, version: row.os_version },
    kernel: row.kernel,
    bootedSlot: row.booted_slot,
    agentVersion: row.agent_version,
    runtimes: row.runtimes,
    status: row.status,
    health: row.health,
    uptimeSeconds: row.uptime_seconds,
    load: row.load1 === null ? null : [row.load1, num(row.load5), num(row.load15)],
    memory:
      row.memory_total_bytes === null
        ? null
        : { totalBytes: num(row.memory_total_bytes), availableBytes: num(row.memory_available_bytes) },
    disk:
      row.disk_total_bytes === null
        ? null
        : { totalBytes: num(row.disk_total_bytes), availableBytes: num(row.disk_available_bytes) },
    registeredAt: row.registered_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The hello facts compared to decide whether `node.updated` is due, keyed by their view name. */
export function factsOf(row: NodeRow): Record<string, unknown> {
  return {
    hostname: row.hostname,
    labels: row.labels,
    group: row.group,
    channel: row.channel,
    arch: row.arch,
    'os.name': row.os_name,
    'os.version': row.os_version,
    kernel: row.kernel,
    bootedSlot: row.booted_slot,
    agentVersion: row.agent_version,
    runtimes: row.runtimes,
    bootId: row.boot_id,
  };
}

/** Names of the facts that differ between two rows (deep comparison of JSON values). */
export function changedFacts(before: NodeRow, after: NodeRow): string[] {
  const a = factsOf(before);
  const b = factsOf(after);
  return Object.keys(b).filter((k) => !sameJson(a[k], b[k]));
}

export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

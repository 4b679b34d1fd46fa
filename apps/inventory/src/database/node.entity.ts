import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per machine. Storage only: the wire shape is `NodeView` in `#contracts/inventory`,
 * built by `toNodeView`. Labels and group are stored three ways so that an operator's changes
 * survive the agent's next hello while the agent's own config still propagates:
 *   labels = agent_labels overlaid with label_overrides (a null override removes the key),
 *   group  = group_override when set, else agent_group.
 * The GIN index on labels is defined in the migration only (TypeORM cannot express it).
 */
@Entity({ schema: 'inventory', name: 'nodes' })
@Index('nodes_labels_gin', { synchronize: false })
@Check('nodes_status_check', `"status" IN ('online', 'offline')`)
@Check('nodes_booted_slot_check', `"booted_slot" IN ('a', 'b')`)
export class NodeEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  hostname: string;

  /** Effective labels (what selectors match). */
  @Column('jsonb', { default: () => "'{}'" })
  labels: Record<string, string>;

  @Column('jsonb', { name: 'agent_labels', default: () => "'{}'" })
  agentLabels: Record<string, string>;

  @Column('jsonb', { name: 'label_overrides', default: () => "'{}'" })
  labelOverrides: Record<string, string | null>;

  @Index('nodes_group_idx')
  @Column('text', { name: 'group' })
  group: string;

  @Column('text', { name: 'agent_group' })
  agentGroup: string;

  @Column('text', { name: 'group_override', nullable: true })
  groupOverride: string | null;

  @Index('nodes_channel_idx')
  @Column('text')
  channel: string;

  @Column('text')
  arch: string;

  @Column('text', { name: 'os_name' })
  osName: string;

  @Index('nodes_os_version_idx')
  @Column('text', { name: 'os_version' })
  osVersion: string;

  @Column('text')
  kernel: string;

  @Column('text', { name: 'booted_slot', nullable: true })
  bootedSlot: 'a' | 'b' | null;

  @Column('text', { name: 'agent_version' })
  agentVersion: string;

  @Column('jsonb', { default: () => "'[]'" })
  runtimes: Array<{ name: string; version: string }>;

  @Column('text', { name: 'boot_id', nullable: true })
  bootId: string | null;

  @Index('nodes_status_idx')
  @Column('text')
  status: 'online' | 'offline';

  @Column('text', { default: 'unknown' })
  health: string;

  @Column('double precision', { name: 'uptime_seconds', nullable: true })
  uptimeSeconds: number | null;

  @Column('double precision', { name: 'load1', nullable: true })
  load1: number | null;

  @Column('double precision', { name: 'load5', nullable: true })
  load5: number | null;

  @Column('double precision', { name: 'load15', nullable: true })
  load15: number | null;

  @Column('bigint', { name: 'memory_total_bytes', nullable: true })
  memoryTotalBytes: string | null;

  @Column('bigint', { name: 'memory_available_bytes', nullable: true })
  memoryAvailableBytes: string | null;

  @Column('bigint', { name: 'disk_total_bytes', nullable: true })
  diskTotalBytes: string | null;

  @Column('bigint', { name: 'disk_available_bytes', nullable: true })
  diskAvailableBytes: string | null;

  @Column('timestamptz', { name: 'registered_at', default: () => 'now()' })
  registeredAt: Date;

  @Column('timestamptz', { name: 'last_seen_at', default: () => 'now()' })
  lastSeenAt: Date;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;

  /** When the node last went from offline (or unknown) to online. */
  @Column('timestamptz', { name: 'online_since', default: () => 'now()' })
  onlineSince: Date;

  /** When a heartbeat or hello last changed the booted OS version. */
  @Column('timestamptz', { name: 'os_version_changed_at', default: () => 'now()' })
  osVersionChangedAt: Date;
}

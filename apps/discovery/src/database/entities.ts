import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Storage shapes only; the NATS contracts live in libs/contracts/src/discovery. Hot paths write
 * with multi-row SQL (see catalog.store.ts); these entities document and type the tables.
 */
@Entity({ schema: 'discovery', name: 'instances' })
@Index('discovery_instances_service_idx', ['service'])
@Index('discovery_instances_node_idx', ['nodeId'])
export class InstanceEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ type: 'text' }) service: string;
  @Column({ name: 'node_id', type: 'text', nullable: true }) nodeId: string | null;
  @Column({ type: 'text' }) source: string;
  @Column({ type: 'text' }) address: string;
  @Column({ type: 'int' }) port: number;
  @Column({ type: 'jsonb', default: () => "'[]'" }) tags: string[];
  @Column({ type: 'jsonb', default: () => "'{}'" }) meta: Record<string, string>;
  @Column({ name: 'group', type: 'text' }) group: string;
  @Column({ type: 'jsonb', default: () => "'[]'" }) checks: unknown[];
  @Column({ name: 'node_offline', type: 'boolean', default: false }) nodeOffline: boolean;
  @Column({ type: 'text' }) health: string;
  @Column({ name: 'critical_since', type: 'timestamptz', nullable: true }) criticalSince: Date | null;
  @Column({ name: 'deregister_after_ms', type: 'bigint', nullable: true }) deregisterAfterMs: string | null;
  @Index('discovery_instances_reap_at_idx')
  @Column({ name: 'reap_at', type: 'timestamptz', nullable: true })
  reapAt: Date | null;
  @Index('discovery_instances_ttl_deadline_idx')
  @Column({ name: 'ttl_deadline', type: 'timestamptz', nullable: true })
  ttlDeadline: Date | null;
  @Column({ name: 'definition_hash', type: 'text' }) definitionHash: string;
  @Column({ name: 'create_index', type: 'bigint' }) createIndex: string;
  @Column({ name: 'modify_index', type: 'bigint' }) modifyIndex: string;
  @Column({ name: 'registered_at', type: 'timestamptz' }) registeredAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** One row per service name ever seen: its index survives its last instance's removal. */
@Entity({ schema: 'discovery', name: 'services' })
export class ServiceEntity {
  @PrimaryColumn({ type: 'text' }) name: string;
  @Column({ name: 'modify_index', type: 'bigint' }) modifyIndex: string;
}

export const discoveryEntities = [InstanceEntity, ServiceEntity];

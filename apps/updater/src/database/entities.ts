import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Storage only (the wire shapes live in `#contracts/updater`). The service reads and writes these
 * tables with SQL (batched statements, row and advisory locks); the entities document the columns
 * and keep TypeORM's metadata in step with the migrations. Partial indexes, sequences and foreign
 * keys are defined in the migration only.
 */
@Entity({ schema: 'updater', name: 'releases' })
@Index('releases_channel_arch_version_uq', ['channel', 'arch', 'version'], { unique: true })
@Index('releases_created_idx', ['createdAt', 'id'])
export class ReleaseEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') version: string;
  @Column('text') channel: string;
  @Column('text') arch: string;
  @Column('text', { name: 'payload_url' }) payloadUrl: string;
  @Column('text', { name: 'payload_sha256' }) payloadSha256: string;
  @Column('bigint', { name: 'payload_size' }) payloadSize: string;
  @Column('text', { name: 'payload_signature' }) payloadSignature: string;
  @Column('text', { default: '' }) notes: string;
  @Column('text', { name: 'barrier_reason', nullable: true }) barrierReason: string | null;
  @Column('text', { name: 'dead_end_reason', nullable: true }) deadEndReason: string | null;
  @Column('timestamptz', { name: 'rollout_start', nullable: true }) rolloutStart: Date | null;
  @Column('double precision', { name: 'rollout_start_value', nullable: true }) rolloutStartValue: number | null;
  @Column('integer', { name: 'rollout_duration_minutes', nullable: true }) rolloutDurationMinutes: number | null;
  @Column('timestamptz', { name: 'withdrawn_at', nullable: true }) withdrawnAt: Date | null;
  @Column('text', { name: 'withdrawn_reason', nullable: true }) withdrawnReason: string | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
}

@Entity({ schema: 'updater', name: 'rollouts' })
@Index('rollouts_created_idx', ['createdAt', 'id'])
export class RolloutEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'release_id' }) releaseId: string;
  @Column('text') version: string;
  @Column('text') channel: string;
  @Column('text') arch: string;
  @Column('text', { name: 'previous_version', nullable: true }) previousVersion: string | null;
  @Column('jsonb') target: unknown;
  @Column('jsonb') strategy: unknown;
  @Column('integer', { name: 'reboot_slots' }) rebootSlots: number;
  @Column('jsonb', { name: 'group_slots', default: () => "'{}'::jsonb" }) groupSlots: Record<string, number>;
  @Column('jsonb', { default: () => "'{}'::jsonb" }) windows: unknown;
  @Column('double precision', { name: 'threshold_percent' }) thresholdPercent: number;
  @Column('integer', { name: 'node_timeout_seconds' }) nodeTimeoutSeconds: number;
  @Column('integer', { name: 'reboot_wait_timeout_seconds', default: 3600 }) rebootWaitTimeoutSeconds: number;
  @Column('text', { default: '' }) description: string;
  @Column('text') state: string;
  @Column('text', { nullable: true }) reason: string | null;
  @Column('boolean', { name: 'start_paused', default: false }) startPaused: boolean;
  @Column('integer', { name: 'current_wave', default: 0 }) currentWave: number;
  @Column('jsonb', { name: 'wave_opened_at', default: () => "'{}'::jsonb" }) waveOpenedAt: Record<string, string>;
  @Column('jsonb', { name: 'wave_finished_at', default: () => "'{}'::jsonb" }) waveFinishedAt: Record<string, string>;
  @Column('jsonb', { default: () => "'{}'::jsonb" }) acknowledged: Record<string, number>;
  @Column('timestamptz', { name: 'members_refreshed_at', nullable: true }) membersRefreshedAt: Date | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt: Date | null;
}

@Entity({ schema: 'updater', name: 'rollout_nodes' })
@Index('rollout_nodes_wave_state_idx', ['rolloutId', 'wave', 'state'])
export class RolloutNodeEntity {
  @PrimaryColumn('uuid', { name: 'rollout_id' }) rolloutId: string;
  @Index('rollout_nodes_node_idx')
  @PrimaryColumn('text', { name: 'node_id' })
  nodeId: string;
  @Column('text', { name: 'group' }) group: string;
  @Column('integer') bucket: number;
  @Column('integer') wave: number;
  @Column('boolean', { default: true }) online: boolean;
  @Column('text') state: string;
  @Column('timestamptz', { name: 'state_at', default: () => 'now()' }) stateAt: Date;
  @Column('text', { nullable: true }) code: string | null;
  @Column('text', { nullable: true }) message: string | null;
  @Column('boolean', { default: false }) rollback: boolean;
  /** The version this node is being moved to: the release's, or the one a rollback returns to. */
  @Column('text', { name: 'target_version' }) targetVersion: string;
  @Column('text', { name: 'from_version', nullable: true }) fromVersion: string | null;
  @Column('timestamptz', { name: 'activated_at', nullable: true }) activatedAt: Date | null;
  /** Last reboot-slot request while `awaiting_reboot` (its deadline counts silence, not waiting). */
  @Column('timestamptz', { name: 'seen_at', default: () => 'now()' }) seenAt: Date;
  @Column('jsonb', { default: () => "'[]'::jsonb" }) transitions: unknown[];
}

@Entity({ schema: 'updater', name: 'rollout_groups' })
export class RolloutGroupEntity {
  @PrimaryColumn('uuid', { name: 'rollout_id' }) rolloutId: string;
  @Index('rollout_groups_group_idx')
  @PrimaryColumn('text', { name: 'group' })
  group: string;
}

@Entity({ schema: 'updater', name: 'desired_updates' })
export class DesiredUpdateEntity {
  @PrimaryColumn('text', { name: 'node_id' }) nodeId: string;
  @Index('desired_updates_rollout_idx')
  @Column('uuid', { name: 'rollout_id' })
  rolloutId: string;
  @Column('uuid', { name: 'release_id', nullable: true }) releaseId: string | null;
  @Column('text') version: string;
  @Column('text') channel: string;
  @Column('text') arch: string;
  @Column('jsonb', { nullable: true }) payload: unknown;
  @Column('boolean', { default: false }) rollback: boolean;
  @Column('text', { name: 'group' }) group: string;
  @Column('bigint') revision: string;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

@Entity({ schema: 'updater', name: 'reboot_locks' })
export class RebootLockEntity {
  @PrimaryColumn('text', { name: 'group' }) group: string;
  @PrimaryColumn('text') holder: string;
  @Column('timestamptz', { name: 'acquired_at' }) acquiredAt: Date;
  @Column('timestamptz', { name: 'renewed_at' }) renewedAt: Date;
  @Index('reboot_locks_expires_idx')
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;
}

@Entity({ schema: 'updater', name: 'group_policies' })
export class GroupPolicyEntity {
  @PrimaryColumn('text', { name: 'group' }) group: string;
  @Column('integer') slots: number;
  @Column('jsonb', { default: () => "'[]'::jsonb" }) windows: unknown[];
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

@Entity({ schema: 'updater', name: 'lock_waiters' })
@Index('lock_waiters_group_since_idx', ['group', 'since'])
export class LockWaiterEntity {
  @PrimaryColumn('text', { name: 'group' }) group: string;
  @PrimaryColumn('text') holder: string;
  @Column('timestamptz', { default: () => 'now()' }) since: Date;
}

export const UPDATER_ENTITIES = [
  LockWaiterEntity,
  ReleaseEntity,
  RolloutEntity,
  RolloutNodeEntity,
  RolloutGroupEntity,
  DesiredUpdateEntity,
  RebootLockEntity,
  GroupPolicyEntity,
];

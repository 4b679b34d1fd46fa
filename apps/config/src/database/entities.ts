import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Storage shapes of the config schema (the wire shapes live in `#contracts/config`). Queries are
 * hand-written SQL (batched unnest updates, jsonb), so these mainly document the tables; the
 * migration is the source of truth for indexes and constraints.
 */
@Entity({ schema: 'config', name: 'revisions' })
export class RevisionEntity {
  @PrimaryColumn('integer') revision: number;
  @Column('text') author: string;
  @Column('text') message: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('integer', { name: 'item_count' }) itemCount: number;
  @Column('integer', { name: 'rolled_back_from', nullable: true }) rolledBackFrom: number | null;
}

@Entity({ schema: 'config', name: 'revision_items' })
export class RevisionItemEntity {
  @PrimaryColumn('integer') revision: number;
  @PrimaryColumn('text') scope: string;
  @PrimaryColumn('text') path: string;
  @Column('jsonb') file: unknown;
}

@Entity({ schema: 'config', name: 'drafts' })
export class DraftEntity {
  @PrimaryColumn('text') scope: string;
  @PrimaryColumn('text') path: string;
  @Column('text') op: 'set' | 'remove';
  @Column('jsonb', { nullable: true }) file: unknown;
  @Column('text') author: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}

@Entity({ schema: 'config', name: 'schemas' })
export class SchemaEntity {
  @PrimaryColumn('text') pattern: string;
  @Column('jsonb') schema: unknown;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}

@Entity({ schema: 'config', name: 'deployment' })
export class DeploymentEntity {
  @PrimaryColumn('integer') id: number;
  @Column('integer', { name: 'stable_revision' }) stableRevision: number;
  @Column('integer', { name: 'canary_revision', nullable: true }) canaryRevision: number | null;
  @Column('integer', { name: 'canary_previous', nullable: true }) canaryPrevious: number | null;
  @Column('text', { name: 'canary_selector', nullable: true }) canarySelector: string | null;
  @Column('double precision', { name: 'canary_percent', nullable: true }) canaryPercent: number | null;
  @Column('timestamptz', { name: 'canary_started_at', nullable: true }) canaryStartedAt: Date | null;
}

@Entity({ schema: 'config', name: 'nodes' })
export class ConfigNodeEntity {
  @PrimaryColumn('text', { name: 'node_id' }) nodeId: string;
  @Column('text') group: string;
  @Column('jsonb') labels: Record<string, string>;
  @Column('integer', { name: 'desired_revision', nullable: true }) desiredRevision: number | null;
  @Column('text', { name: 'desired_hash', nullable: true }) desiredHash: string | null;
  @Column('boolean') canary: boolean;
}

@Entity({ schema: 'config', name: 'node_reports' })
export class ConfigNodeReportEntity {
  @PrimaryColumn('text', { name: 'node_id' }) nodeId: string;
  @Column('integer', { name: 'applied_revision', nullable: true }) appliedRevision: number | null;
  @Column('text', { name: 'applied_hash', nullable: true }) appliedHash: string | null;
  @Column('jsonb') drift: unknown;
}

@Entity({ schema: 'config', name: 'profiles' })
export class ProfileEntity {
  @PrimaryColumn('text') name: string;
  @Column('jsonb') ignition: unknown;
  @Column('text', { nullable: true }) description: string | null;
}

@Entity({ schema: 'config', name: 'machine_groups' })
export class MachineGroupEntity {
  @PrimaryColumn('text') name: string;
  @Column('text') profile: string;
  @Column('jsonb') selector: unknown;
  @Column('jsonb') metadata: unknown;
}

export const CONFIG_ENTITIES = [RevisionEntity, RevisionItemEntity, DraftEntity, SchemaEntity, DeploymentEntity, ConfigNodeEntity, ConfigNodeReportEntity, ProfileEntity, MachineGroupEntity];

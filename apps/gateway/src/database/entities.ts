import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** An API token. Only the sha256 of the secret is stored; the secret is shown once at creation. */
@Entity({ schema: 'gateway', name: 'tokens' })
export class TokenEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  role: string;

  @Index('tokens_hash_key', { unique: true })
  @Column('bytea')
  hash: Buffer;

  /** First characters of the secret, safe to show so people can tell tokens apart. */
  @Column('text')
  prefix: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy: string | null;
}

/** One row per mutating HTTP request (and per rejected attempt at one). */
@Entity({ schema: 'gateway', name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Index('audit_log_at_idx')
  @Column('timestamptz')
  at: Date;

  @Column('uuid', { name: 'token_id', nullable: true })
  tokenId: string | null;

  /** Token name, or `anonymous` when the request carried no valid token. */
  @Column('text')
  actor: string;

  @Column('text', { nullable: true })
  role: string | null;

  @Column('text')
  method: string;

  @Column('text')
  path: string;

  @Column('int')
  status: number;

  @Column('text', { name: 'request_id' })
  requestId: string;

  @Column('text', { nullable: true })
  ip: string | null;
}

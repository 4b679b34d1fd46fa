import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An outbox event JetStream refused for good, moved aside so the relay goes on (see `outbox/`).
 * Storage only, like `OutboxEntity`: written by hand-written SQL, inspected and replayed by
 * operators (docs/inventory.md).
 */
@Entity({ schema: 'inventory', name: 'outbox_dead' })
export class OutboxDeadEntity {
  /** The row's `seq` in the outbox. */
  @PrimaryColumn('bigint', { name: 'seq', primaryKeyConstraintName: 'outbox_dead_pkey' })
  seq: string;

  @Column('uuid', { name: 'event_id' })
  eventId: string;

  @Column('text')
  event: string;

  @Column('json')
  envelope: unknown;

  @Column('jsonb', { nullable: true })
  trace: Record<string, string> | null;

  /** When the change that caused the event committed. */
  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'failed_at', default: () => 'now()' })
  failedAt: Date;

  /** Permanent publish failures before it was moved. */
  @Column('integer')
  attempts: number;

  /** The last failure, as classified (`classifyPublishFailure`). */
  @Column('text')
  error: string;
}

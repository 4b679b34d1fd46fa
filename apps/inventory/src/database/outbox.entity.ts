import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One event waiting for the relay (see `outbox/`). Storage only: rows are written and read with
 * hand-written SQL; the entity exists so the schema check covers the table.
 */
@Entity({ schema: 'inventory', name: 'outbox' })
export class OutboxEntity {
  /** Relay order. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', name: 'seq', primaryKeyConstraintName: 'outbox_pkey' })
  seq: string;

  /** The envelope's id and the JetStream message id (`Nats-Msg-Id`). */
  @Column('uuid', { name: 'event_id' })
  eventId: string;

  /** `node.registered`, …: the subject is `<root>.events.inventory.<event>`. */
  @Column('text')
  event: string;

  /** The exact JSON the relay publishes. */
  @Column('json')
  envelope: unknown;

  /** W3C trace context of the change, sent as message headers. */
  @Column('jsonb', { nullable: true })
  trace: Record<string, string> | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  /** Permanent publish failures so far; at the relay's limit the row moves to `outbox_dead`. */
  @Column('integer', { default: 0 })
  attempts: number;
}

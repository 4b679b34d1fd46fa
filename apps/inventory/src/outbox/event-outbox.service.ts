import { Inject, Injectable } from '@nestjs/common';
import { currentTraceCarrier } from '#lib/telemetry';
import { Sql } from '../database/sql.js';
import { appendToOutbox } from './outbox-sql.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { StagedEvents } from './staged-events.js';

/**
 * Every inventory state change that causes events runs through here: `work` changes state in a
 * transaction and stages its events; they are inserted into the outbox by one more statement in
 * the same transaction (none when nothing was staged), and the relay is woken once it commits.
 * An event therefore exists exactly when its change does, whatever crashes when.
 */
@Injectable()
export class EventOutbox {
  constructor(
    @Inject(Sql) private readonly sql: Sql,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
  ) {}

  async transaction<T>(work: (tx: Sql, events: StagedEvents) => Promise<T>): Promise<T> {
    const events = new StagedEvents();
    const result = await this.sql.transaction(async (tx) => {
      const value = await work(tx, events);
      await appendToOutbox(tx, events.list, currentTraceCarrier());
      return value;
    });
    if (events.size > 0) this.relay.wake();
    return result;
  }
}

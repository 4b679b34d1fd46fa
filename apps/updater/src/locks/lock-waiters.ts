import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { MessageBus } from '#lib/messaging';
import { LOCK_NOTICE_TOPIC, type LockNotice } from '#contracts/updater';
import { counter } from '#lib/telemetry';
import { returning } from '../common/sql.js';
import { UPDATER_BUS, UPDATER_DB } from '../common/tokens.js';

const T = '"updater"."lock_waiters"';
const told = counter('fleet_updater_lock_waiters_notified_total', 'Waiting nodes told that a reboot slot was freed');

/**
 * Nodes denied a busy slot wait for a notice instead of polling: a freed slot wakes the oldest
 * waiters of its group (twice as many as slots freed, in case some are gone). The list is in
 * PostgreSQL so whichever replica frees a slot can wake waiters that asked another replica.
 * Polling every `retryAfterSeconds` remains the fallback, so a lost notice costs only latency.
 */
@Injectable()
export class LockWaiters {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
  ) {}

  async add(group: string, holder: string): Promise<void> {
    await this.db.query(`INSERT INTO ${T} ("group", holder) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [group, holder]);
  }

  async remove(group: string, holder: string): Promise<void> {
    await this.db.query(`DELETE FROM ${T} WHERE "group" = $1 AND holder = $2`, [group, holder]);
  }

  /** Wakes up to `2 × freed` of the group's oldest waiters (they re-register if denied again). */
  async wake(group: string, freed: number): Promise<number> {
    if (freed <= 0) return 0;
    const rows = await returning<{ holder: string }>(
      this.db,
      `DELETE FROM ${T} WHERE ("group", holder) IN (
         SELECT "group", holder FROM ${T} WHERE "group" = $1 ORDER BY since LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING holder`,
      [group, freed * 2],
    );
    const notice: LockNotice = { v: 1, group, event: 'slot_free' };
    for (const r of rows) this.bus.publish(this.bus.subjects.node(r.holder, LOCK_NOTICE_TOPIC), notice);
    told.inc(rows.length);
    return rows.length;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { LOCK_NOTICE_TOPIC, UPDATER_EVENTS, type GroupLocksView, type LockNotice, type LockReply, type MaintenanceWindow } from '#contracts/updater';
import type { MessageBus } from '#lib/messaging';
import { counter } from '#lib/telemetry';
import { UpdaterEvents } from '../common/updater-events.js';
import { iso, returning } from '../common/sql.js';
import { UPDATER_BUS, UPDATER_DB, UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';
import { isWindowOpen, nextWindowOpen } from '../windows/maintenance-window.js';
import { GroupBatcher } from './group-batcher.js';
import { GroupPolicyService } from './group-policy.service.js';

const T = '"updater"."reboot_locks"';
const W = '"updater"."lock_waiters"';
const lockRequests = counter('fleet_updater_lock_requests_total', 'Reboot-slot requests, by action and result', ['action', 'result']);
const told = counter('fleet_updater_lock_waiters_notified_total', 'Waiting nodes told that a reboot slot was freed');

interface SlotRow {
  holder?: string;
  granted: boolean;
  newly: boolean;
  reason: 'lock_unavailable' | 'outside_maintenance_window' | null;
  expires_at: Date | null;
  holders: number;
  expired: string[];
  now_ms: number;
}

/**
 * The reboot semaphore of each group, in PostgreSQL. A grant is decided by the server-side
 * function `updater.try_acquire_slot`, which takes a transaction-scoped advisory lock on the group
 * first: grants in one group are serialised across every replica, so capacity is never exceeded,
 * and the lock is held for microseconds, not client round trips. Releasing needs no lock (it only
 * removes the caller's own row; a concurrent grant that still saw the row merely denies). A freed
 * slot wakes the group's oldest waiters with a notice, so waiting nodes need not poll. Times come
 * from the database clock, so replicas with skewed clocks agree on lease expiry.
 */
@Injectable()
export class SemaphoreService {
  /** Grants and renewals of one group go to the database together (key: `a:<group>` / `r:<group>`). */
  private readonly grants = new GroupBatcher<{ id: string; leaseMs: number }, SlotRow>((key, items) => this.flushGrants(key, items));
  /** Owners' releases of one group: one statement, one commit, one wake-up for many. */
  private readonly releases = new GroupBatcher<string, { released: boolean; holders: number }>((group, ids) => this.flushReleases(group, ids));

  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
    @Inject(UPDATER_BUS) private readonly bus: MessageBus,
    private readonly policies: GroupPolicyService,
    private readonly events: UpdaterEvents,
  ) {}

  acquire(id: string, group: string, leaseSeconds?: number): Promise<LockReply> {
    return this.slot('acquire', id, group, leaseSeconds);
  }

  renew(id: string, group: string, leaseSeconds?: number): Promise<LockReply> {
    return this.slot('renew', id, group, leaseSeconds);
  }

  async release(id: string, group: string): Promise<{ released: boolean; holders: number; capacity: number }> {
    const policy = await this.policies.effective(group);
    const r = await this.releases.run(group, id);
    lockRequests.inc({ action: 'release', result: r.released ? 'released' : 'not_held' });
    return { ...r, capacity: policy.capacity };
  }

  private async flushReleases(group: string, ids: string[]): Promise<Array<{ released: boolean; holders: number }>> {
    const [row] = await returning<{ released: string[]; holders: number }>(
      this.db,
      `WITH rel AS (DELETE FROM ${T} WHERE "group" = $1 AND holder = ANY($2::text[]) RETURNING holder)
       SELECT coalesce((SELECT array_agg(holder) FROM rel), '{}') AS released,
              (SELECT count(*) FROM ${T} WHERE "group" = $1 AND expires_at > now())::int - (SELECT count(*) FROM rel)::int AS holders`,
      [group, ids],
    );
    const released = new Set(row.released);
    // Grants and owners' releases are not events (two per node per update); forced releases and
    // expiries, which an operator wants to see, are.
    await this.wake(group, released.size);
    return ids.map((id) => ({ released: released.has(id), holders: Math.max(0, row.holders) }));
  }

  /** Admin: frees one holder's slot, or every slot of the group. */
  async forceRelease(group: string, id?: string): Promise<{ released: string[] }> {
    const rows = await returning<{ holder: string }>(
      this.db,
      `DELETE FROM ${T} WHERE "group" = $1 ${id ? 'AND holder = $2' : ''} RETURNING holder`,
      id ? [group, id] : [group],
    );
    const released = rows.map((r) => r.holder).sort();
    for (const holder of released) this.events.emit(UPDATER_EVENTS.lockReleased, { group, holder, by: 'forced' });
    await this.wake(group, released.length);
    return { released };
  }

  /**
   * Frees the slots (and waiting places) of nodes a rollout gave up on, inside the caller's
   * transaction; `announceFreed` after commit tells the groups' waiters and emits the events.
   */
  async dropHolders(q: QueryRunner, nodes: Array<{ group: string; holder: string }>): Promise<Array<{ group: string; holder: string }>> {
    if (nodes.length === 0) return [];
    const params = [nodes.map((n) => n.group), nodes.map((n) => n.holder)];
    await q.query(`DELETE FROM ${W} w USING unnest($1::text[], $2::text[]) AS u(grp, holder) WHERE w."group" = u.grp AND w.holder = u.holder`, params);
    return returning<{ group: string; holder: string }>(q,
      `DELETE FROM ${T} l USING unnest($1::text[], $2::text[]) AS u(grp, holder) WHERE l."group" = u.grp AND l.holder = u.holder
       RETURNING l."group", l.holder`,
      params,
    );
  }

  async announceFreed(freed: Array<{ group: string; holder: string }>, by: 'timeout'): Promise<void> {
    const perGroup = new Map<string, number>();
    for (const f of freed) {
      this.events.emit(UPDATER_EVENTS.lockReleased, { group: f.group, holder: f.holder, by });
      perGroup.set(f.group, (perGroup.get(f.group) ?? 0) + 1);
    }
    for (const [group, n] of perGroup) await this.wake(group, n);
  }

  /** Deletes expired leases everywhere (leader's periodic job): a dead holder frees its slot. */
  async reapExpired(): Promise<number> {
    const rows = await returning<{ group: string; holder: string }>(this.db, `DELETE FROM ${T} WHERE expires_at <= now() RETURNING "group", holder`);
    const freed = new Map<string, number>();
    for (const r of rows) {
      this.events.emit(UPDATER_EVENTS.lockExpired, { group: r.group, holder: r.holder, by: 'expiry' });
      freed.set(r.group, (freed.get(r.group) ?? 0) + 1);
    }
    for (const [group, n] of freed) await this.wake(group, n);
    return rows.length;
  }

  async list(group?: string): Promise<{ items: GroupLocksView[] }> {
    const rows: Array<{ group: string; holder: string; acquired_at: Date; renewed_at: Date; expires_at: Date }> = await this.db.query(
      `SELECT "group", holder, acquired_at, renewed_at, expires_at FROM ${T} WHERE expires_at > now() ${group ? 'AND "group" = $1' : ''}
       ORDER BY "group", acquired_at`,
      group ? [group] : [],
    );
    const groups = new Set(group ? [group] : [...(await this.policies.knownGroups()), ...rows.map((r) => r.group)]);
    const items: GroupLocksView[] = [];
    for (const g of [...groups].sort()) {
      const policy = await this.policies.effective(g);
      items.push({
        group: g,
        capacity: policy.capacity,
        policySource: policy.source,
        windowOpen: isWindowOpen(policy.windows, Date.now()),
        holders: rows
          .filter((r) => r.group === g)
          .map((r) => ({ id: r.holder, acquiredAt: iso(r.acquired_at)!, renewedAt: iso(r.renewed_at)!, expiresAt: iso(r.expires_at)! })),
      });
    }
    return { items };
  }

  private async slot(action: 'acquire' | 'renew', id: string, group: string, leaseSeconds?: number): Promise<LockReply> {
    const policy = await this.policies.effective(group);
    const leaseMs = (leaseSeconds ?? this.env.UPDATER_LOCK_LEASE_SECONDS) * 1000;
    const windowOpen = isWindowOpen(policy.windows, Date.now());
    if (action === 'acquire') {
      const denied = await this.deniedWithoutLock(id, group, policy.capacity, windowOpen);
      if (denied) {
        lockRequests.inc({ action, result: denied.reason! });
        return this.reply(id, group, policy.capacity, denied, policy.windows);
      }
    }
    const row = await this.grants.run(`${action === 'renew' ? 'r' : 'a'}:${group}`, { id, leaseMs });
    lockRequests.inc({ action, result: row.granted ? 'granted' : row.reason! });
    for (const holder of row.expired) this.events.emit(UPDATER_EVENTS.lockExpired, { group, holder, by: 'expiry' });
    if (row.expired.length > 0) await this.wake(group, row.expired.length);
    return this.reply(id, group, policy.capacity, row, policy.windows);
  }

  /** One call of `try_acquire_slots` for a queue of requests; capacity and window as of now. */
  private async flushGrants(key: string, items: Array<{ id: string; leaseMs: number }>): Promise<SlotRow[]> {
    const group = key.slice(2);
    const policy = await this.policies.effective(group);
    const rows: SlotRow[] = await this.db.query(`SELECT * FROM "updater"."try_acquire_slots"($1, $2, $3, $4, $5, $6)`, [
      group,
      items.map((i) => i.id),
      items.map((i) => i.leaseMs),
      policy.capacity,
      isWindowOpen(policy.windows, Date.now()),
      key.startsWith('r:'),
    ]);
    return rows;
  }

  /**
   * A denial changes nothing but the waiter queue, so it needs no group lock: when the group is
   * visibly full (or its window closed) and the caller holds no slot, one unlocked statement
   * answers and queues the caller. When thousands of nodes ask at once (a wave opens), this keeps
   * the group's advisory lock, and the connections waiting on it, for requests that can succeed.
   * Grants only ever happen under the lock, so capacity stays exact.
   */
  private async deniedWithoutLock(id: string, group: string, capacity: number, windowOpen: boolean): Promise<SlotRow | null> {
    const [row]: Array<{ live: number; mine: boolean; now_ms: number }> = await this.db.query(
      `WITH s AS (
         SELECT count(*) FILTER (WHERE expires_at > now())::int AS live,
                coalesce(bool_or(holder = $2 AND expires_at > now()), false) AS mine
           FROM ${T} WHERE "group" = $1),
       q AS (INSERT INTO ${W} ("group", holder) SELECT $1, $2 FROM s WHERE NOT s.mine AND s.live >= $3 AND $4
             ON CONFLICT DO NOTHING RETURNING 1)
       SELECT s.live, s.mine, (extract(epoch FROM now()) * 1000)::float8 AS now_ms FROM s`,
      [group, id, capacity, windowOpen],
    );
    if (row.mine || (windowOpen && row.live < capacity)) return null;
    return {
      granted: false,
      newly: false,
      reason: windowOpen ? 'lock_unavailable' : 'outside_maintenance_window',
      expires_at: null,
      holders: row.live,
      expired: [],
      now_ms: row.now_ms,
    };
  }

  /**
   * Safety net for lost notices (leader, with the reaper): wakes waiters of groups that have
   * free slots nobody is taking.
   */
  async wakeIdle(): Promise<void> {
    const groups: Array<{ group: string; live: number }> = await this.db.query(
      `SELECT w."group", (SELECT count(*) FROM ${T} l WHERE l."group" = w."group" AND l.expires_at > now())::int AS live
         FROM (SELECT DISTINCT "group" FROM ${W}) w`,
    );
    for (const g of groups) {
      const free = (await this.policies.effective(g.group)).capacity - g.live;
      if (free > 0) await this.wake(g.group, free);
    }
  }

  /** Wakes up to `2 × freed` of the group's oldest waiters (they queue again if denied again). */
  private async wake(group: string, freed: number): Promise<void> {
    if (freed <= 0) return;
    const rows = await returning<{ holder: string }>(
      this.db,
      `DELETE FROM ${W} WHERE ("group", holder) IN (
         SELECT "group", holder FROM ${W} WHERE "group" = $1 ORDER BY since LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING holder`,
      [group, freed * 2],
    );
    const notice: LockNotice = { v: 1, group, event: 'slot_free' };
    for (const r of rows) this.bus.publish(this.bus.subjects.node(r.holder, LOCK_NOTICE_TOPIC), notice);
    told.inc(rows.length);
  }

  private reply(id: string, group: string, capacity: number, row: SlotRow, windows: MaintenanceWindow[]): LockReply {
    if (row.granted) {
      return {
        granted: true,
        group,
        holder: id,
        newlyAcquired: row.newly,
        expiresAt: iso(row.expires_at)!,
        capacity,
        holders: row.holders,
      };
    }
    const now = Number(row.now_ms);
    let retryAfterSeconds: number | null = this.env.UPDATER_LOCK_RETRY_SECONDS;
    let message = `all ${capacity} reboot slot(s) of group ${group} are held; you are queued and will be notified`;
    if (row.reason === 'outside_maintenance_window') {
      const next = nextWindowOpen(windows, now);
      retryAfterSeconds = next === null ? null : Math.max(1, Math.ceil((next - now) / 1000));
      message = `group ${group} is outside its maintenance window${next === null ? '' : `; next opens at ${new Date(next).toISOString()}`}`;
    } else if (row.holders < capacity) {
      message = `no live reboot slot held by ${id} in group ${group}`;
    }
    return { granted: false, group, holder: id, reason: row.reason!, message, retryAfterSeconds, capacity, holders: row.holders };
  }
}

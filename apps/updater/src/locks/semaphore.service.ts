import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { UPDATER_EVENTS, type GroupLocksView, type LockReply, type MaintenanceWindow } from '#contracts/updater';
import { counter } from '#lib/telemetry';
import { UpdaterEvents } from '../common/updater-events.js';
import { inTransaction, iso, returning } from '../common/sql.js';
import { UPDATER_DB, UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';
import { isWindowOpen, nextWindowOpen } from '../windows/maintenance-window.js';
import { GroupPolicyService } from './group-policy.service.js';
import { LockWaiters } from './lock-waiters.js';
import { decideAcquire, decideRelease, decideRenew, type AcquireDecision, type Holder } from './semaphore-rules.js';

const T = '"updater"."reboot_locks"';
const lockRequests = counter('fleet_updater_lock_requests_total', 'Reboot-slot requests, by action and result', ['action', 'result']);

interface HolderRow {
  holder: string;
  acquired_at: Date;
  renewed_at: Date;
  expires_at: Date;
}

/**
 * The reboot semaphore of each group, in PostgreSQL. Every change to a group's holders runs in a
 * transaction that first takes a transaction-scoped advisory lock on the group, so concurrent
 * requests from any number of replicas are serialised per group and capacity can never be
 * exceeded; the rules themselves are the pure `semaphore-rules`. Time is the database's clock,
 * so replicas with skewed clocks agree on lease expiry.
 */
@Injectable()
export class SemaphoreService {
  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
    private readonly policies: GroupPolicyService,
    private readonly events: UpdaterEvents,
    private readonly waiters: LockWaiters,
  ) {}

  async acquire(id: string, group: string, leaseSeconds?: number): Promise<LockReply> {
    const policy = await this.policies.effective(group);
    const leaseMs = (leaseSeconds ?? this.env.UPDATER_LOCK_LEASE_SECONDS) * 1000;
    const early = await this.deniedWithoutLock(id, group, policy);
    if (early) {
      if (early.granted === false && early.reason === 'lock_unavailable') await this.waiters.add(group, id);
      return early;
    }
    const { decision, now } = await this.withGroup(group, async (state, now) =>
      decideAcquire({ capacity: policy.capacity, holders: state }, { id, leaseMs, windowOpen: isWindowOpen(policy.windows, now) }, now),
    );
    lockRequests.inc({ action: 'acquire', result: decision.granted ? 'granted' : decision.reason });
    if (decision.granted && decision.newlyAcquired) {
      this.events.emit(UPDATER_EVENTS.lockAcquired, { group, holder: id });
      await this.waiters.remove(group, id);
    }
    if (!decision.granted && decision.reason === 'lock_unavailable') await this.waiters.add(group, id);
    if (decision.expired.length > 0) await this.waiters.wake(group, decision.expired.length);
    return this.reply(id, group, policy.capacity, decision, now, policy.windows);
  }

  async renew(id: string, group: string, leaseSeconds?: number): Promise<LockReply> {
    const policy = await this.policies.effective(group);
    const leaseMs = (leaseSeconds ?? this.env.UPDATER_LOCK_LEASE_SECONDS) * 1000;
    const { decision, now } = await this.withGroup(group, async (state, now) =>
      decideRenew({ capacity: policy.capacity, holders: state }, { id, leaseMs }, now),
    );
    lockRequests.inc({ action: 'renew', result: decision.granted ? 'granted' : decision.reason });
    return this.reply(id, group, policy.capacity, decision, now, policy.windows);
  }

  async release(id: string, group: string): Promise<{ released: boolean; holders: number; capacity: number }> {
    const policy = await this.policies.effective(group);
    let released = false;
    let holders = 0;
    await inTransaction(this.db, async (q) => {
      const { rows, now } = await this.lockGroup(q, group);
      const d = decideRelease({ capacity: policy.capacity, holders: rows }, id, now);
      await this.removeExpired(q, group, d.expired);
      if (d.released) await q.query(`DELETE FROM ${T} WHERE "group" = $1 AND holder = $2`, [group, id]);
      released = d.released;
      holders = d.holders.length;
    });
    lockRequests.inc({ action: 'release', result: released ? 'released' : 'not_held' });
    if (released) {
      this.events.emit(UPDATER_EVENTS.lockReleased, { group, holder: id, by: 'owner' });
      await this.waiters.wake(group, 1);
    }
    return { released, holders, capacity: policy.capacity };
  }

  /** Admin: frees one holder's slot, or every slot of the group. */
  async forceRelease(group: string, id?: string): Promise<{ released: string[] }> {
    const released = await inTransaction(this.db, async (q) => {
      await this.lockGroup(q, group);
      const rows: Array<{ holder: string }> = await returning(q,
        `DELETE FROM ${T} WHERE "group" = $1 ${id ? 'AND holder = $2' : ''} RETURNING holder`,
        id ? [group, id] : [group],
      );
      return rows.map((r) => r.holder);
    });
    for (const holder of released) this.events.emit(UPDATER_EVENTS.lockReleased, { group, holder, by: 'forced' });
    await this.waiters.wake(group, released.length);
    return { released };
  }

  /** Deletes expired leases everywhere (leader's periodic job); a dead holder frees its slot. */
  async reapExpired(): Promise<number> {
    const rows: Array<{ group: string; holder: string }> = await returning(this.db,
      `DELETE FROM ${T} WHERE expires_at <= now() RETURNING "group", holder`,
    );
    const freed = new Map<string, number>();
    for (const r of rows) {
      this.events.emit(UPDATER_EVENTS.lockExpired, { group: r.group, holder: r.holder, by: 'expiry' });
      freed.set(r.group, (freed.get(r.group) ?? 0) + 1);
    }
    for (const [group, n] of freed) await this.waiters.wake(group, n);
    return rows.length;
  }

  async list(group?: string): Promise<{ items: GroupLocksView[] }> {
    const rows: Array<HolderRow & { group: string }> = await this.db.query(
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

  private async withGroup(
    group: string,
    decide: (holders: Holder[], now: number) => Promise<AcquireDecision>,
  ): Promise<{ decision: AcquireDecision; now: number }> {
    return inTransaction(this.db, async (q) => {
      const { rows, now } = await this.lockGroup(q, group);
      const decision = await decide(rows, now);
      await this.removeExpired(q, group, decision.expired);
      if (decision.granted) {
        const h = decision.holder;
        await q.query(
          `INSERT INTO ${T} ("group", holder, acquired_at, renewed_at, expires_at)
           VALUES ($1, $2, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))
           ON CONFLICT ("group", holder) DO UPDATE SET renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at`,
          [group, h.id, h.acquiredAt, h.renewedAt, h.expiresAt],
        );
      }
      return { decision, now };
    });
  }

  /**
   * A denial changes nothing, so it needs no lock: when the group is visibly full (or its window
   * closed) and the caller holds no slot, answer from one unlocked read. Under contention (many
   * nodes polling for few slots) this keeps the per-group advisory lock for real grants. A grant
   * is only ever made under the lock, so capacity stays exact.
   */
  private async deniedWithoutLock(id: string, group: string, policy: { capacity: number; windows: MaintenanceWindow[] }): Promise<LockReply | null> {
    const [row]: Array<{ live: number; mine: boolean; now: number }> = await this.db.query(
      `SELECT count(*) FILTER (WHERE expires_at > now())::int AS live,
              coalesce(bool_or(holder = $2 AND expires_at > now()), false) AS mine,
              (extract(epoch FROM now()) * 1000)::float8 AS now
         FROM ${T} WHERE "group" = $1`,
      [group, id],
    );
    if (row.mine) return null;
    const now = Number(row.now);
    const windowOpen = isWindowOpen(policy.windows, now);
    if (windowOpen && row.live < policy.capacity) return null;
    const reason = windowOpen ? 'lock_unavailable' : 'outside_maintenance_window';
    lockRequests.inc({ action: 'acquire', result: reason });
    return this.reply(id, group, policy.capacity, { granted: false, reason, expired: [], holders: Array.from({ length: row.live }, () => ({ id: '', acquiredAt: 0, renewedAt: 0, expiresAt: 0 })) }, now, policy.windows);
  }

  /** Serialises every change to one group's holders; returns them and the database clock. */
  private async lockGroup(q: QueryRunner, group: string): Promise<{ rows: Holder[]; now: number }> {
    await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fleetcore:updater:reboot-lock:${group}`]);
    const rows: Array<HolderRow & { now: number }> = await q.query(
      `SELECT holder, acquired_at, renewed_at, expires_at, (extract(epoch FROM now()) * 1000)::float8 AS now
         FROM ${T} WHERE "group" = $1`,
      [group],
    );
    const now = rows.length ? Number(rows[0].now) : Number((await q.query(`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now`))[0].now);
    return {
      now,
      rows: rows.map((r) => ({
        id: r.holder,
        acquiredAt: r.acquired_at.getTime(),
        renewedAt: r.renewed_at.getTime(),
        expiresAt: r.expires_at.getTime(),
      })),
    };
  }

  private async removeExpired(q: QueryRunner, group: string, expired: Holder[]): Promise<void> {
    if (expired.length === 0) return;
    await q.query(`DELETE FROM ${T} WHERE "group" = $1 AND holder = ANY($2::text[])`, [group, expired.map((h) => h.id)]);
    for (const h of expired) this.events.emit(UPDATER_EVENTS.lockExpired, { group, holder: h.id, by: 'expiry' });
  }

  private reply(id: string, group: string, capacity: number, d: AcquireDecision, now: number, windows: Parameters<typeof nextWindowOpen>[0]): LockReply {
    if (d.granted) {
      return {
        granted: true,
        group,
        holder: id,
        newlyAcquired: d.newlyAcquired,
        expiresAt: new Date(d.holder.expiresAt).toISOString(),
        capacity,
        holders: d.holders.length,
      };
    }
    let retryAfterSeconds: number | null = this.env.UPDATER_LOCK_RETRY_SECONDS;
    let message = `all ${capacity} reboot slot(s) of group ${group} are held`;
    if (d.reason === 'outside_maintenance_window') {
      const next = nextWindowOpen(windows, now);
      retryAfterSeconds = next === null ? null : Math.max(1, Math.ceil((next - now) / 1000));
      message = `group ${group} is outside its maintenance window${next === null ? '' : `; next opens at ${new Date(next).toISOString()}`}`;
    } else if (!d.holders.some((h) => h.id === id) && d.holders.length < capacity) {
      message = `no live reboot slot held by ${id} in group ${group}`;
    }
    return { granted: false, group, holder: id, reason: d.reason, message, retryAfterSeconds, capacity, holders: d.holders.length };
  }
}

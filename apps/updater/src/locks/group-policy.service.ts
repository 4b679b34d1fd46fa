import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { maintenanceWindowSchema, type GroupPolicy, type MaintenanceWindow } from '#contracts/updater';
import { z } from 'zod';
import { UPDATER_DB, UPDATER_ENV } from '../common/tokens.js';
import type { UpdaterEnv } from '../env.js';

export interface EffectivePolicy {
  capacity: number;
  windows: MaintenanceWindow[];
  source: 'rollout' | 'policy' | 'default';
}

const windowsSchema = z.array(maintenanceWindowSchema);

/**
 * Slots and maintenance windows in force for a group: those of the most recently started open
 * rollout that covers the group, else the group's standing policy, else the default (N slots,
 * always open). Cached briefly per replica; the semaphore's race-freedom does not depend on it.
 */
@Injectable()
export class GroupPolicyService {
  private readonly cache = new Map<string, { at: number; policy: EffectivePolicy }>();

  constructor(
    @Inject(UPDATER_DB) private readonly db: DataSource,
    @Inject(UPDATER_ENV) private readonly env: UpdaterEnv,
  ) {}

  async effective(group: string): Promise<EffectivePolicy> {
    const hit = this.cache.get(group);
    if (hit && Date.now() - hit.at < this.env.UPDATER_POLICY_CACHE_MS) return hit.policy;
    const policy = await this.load(group);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(group, { at: Date.now(), policy });
    return policy;
  }

  invalidate(): void {
    this.cache.clear();
  }

  private async load(group: string): Promise<EffectivePolicy> {
    const fromRollout: Array<{ reboot_slots: number; group_slots: Record<string, number>; windows: Record<string, unknown> }> = await this.db.query(
      `SELECT r.reboot_slots, r.group_slots, r.windows
         FROM "updater"."rollout_groups" g JOIN "updater"."rollouts" r ON r.id = g.rollout_id
        WHERE g."group" = $1 AND r.ended_at IS NULL AND r.state IN ('running', 'paused', 'rolled_back')
        ORDER BY r.started_at DESC NULLS LAST LIMIT 1`,
      [group],
    );
    if (fromRollout.length > 0) {
      const r = fromRollout[0];
      const windows = r.windows[group] ?? r.windows['*'] ?? [];
      return { capacity: r.group_slots[group] ?? r.reboot_slots, windows: windowsSchema.parse(windows), source: 'rollout' };
    }
    const stored = await this.getStored(group);
    if (stored) return { capacity: stored.slots, windows: stored.windows, source: 'policy' };
    return { capacity: this.env.UPDATER_DEFAULT_REBOOT_SLOTS, windows: [], source: 'default' };
  }

  async getStored(group: string): Promise<GroupPolicy | null> {
    const rows: Array<{ slots: number; windows: unknown }> = await this.db.query(
      `SELECT slots, windows FROM "updater"."group_policies" WHERE "group" = $1`,
      [group],
    );
    return rows.length ? { group, slots: rows[0].slots, windows: windowsSchema.parse(rows[0].windows) } : null;
  }

  async view(group: string) {
    const stored = await this.getStored(group);
    return stored
      ? { ...stored, source: 'policy' as const }
      : { group, slots: this.env.UPDATER_DEFAULT_REBOOT_SLOTS, windows: [], source: 'default' as const };
  }

  async set(policy: GroupPolicy) {
    await this.db.query(
      `INSERT INTO "updater"."group_policies" ("group", slots, windows, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT ("group") DO UPDATE SET slots = EXCLUDED.slots, windows = EXCLUDED.windows, updated_at = now()`,
      [policy.group, policy.slots, JSON.stringify(policy.windows)],
    );
    this.invalidate();
    return { ...policy, source: 'policy' as const };
  }

  /** Groups worth listing: with a standing policy or covered by an open rollout. */
  async knownGroups(): Promise<string[]> {
    const rows: Array<{ group: string }> = await this.db.query(
      `SELECT "group" FROM "updater"."group_policies"
       UNION SELECT g."group" FROM "updater"."rollout_groups" g JOIN "updater"."rollouts" r ON r.id = g.rollout_id WHERE r.ended_at IS NULL`,
    );
    return rows.map((r) => r.group);
  }
}

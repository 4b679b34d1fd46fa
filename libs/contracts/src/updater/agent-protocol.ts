import { z } from 'zod';
import { groupSchema } from '../common/ids.js';
import { payloadSchema } from './releases.js';
import { failureCodeSchema, nodeUpdateStateSchema } from './rollouts.js';
import { versionSchema } from './version.js';

/**
 * Updater ⇄ agent protocol. Plain JSON with `v: 1`, so any NATS client can speak it.
 *
 * - `<root>.agent.<nodeId>.update.desired`  request/reply, body `{v:1}` → DesiredUpdate.
 *   Agents ask on start, on every reconnect and after a notice (level-triggered).
 * - `<root>.node.<nodeId>.update`           notice, platform → agent, body DesiredUpdate.
 * - `<root>.agent.<nodeId>.report.update`   JetStream publish of UpdateReport, with a
 *   `Nats-Msg-Id` (see `updateReportMsgId`) so a retried publish is stored once.
 * - `<root>.agent.<nodeId>.update.lock`     request/reply LockRequest → LockReply (reboot slot).
 * - `<root>.node.<nodeId>.update.lock`      notice, platform → agent, body LockNotice: a slot of
 *   the group was freed and this node (denied earlier with `lock_unavailable`) may try again now
 *   instead of waiting `retryAfterSeconds`. Waiters are told oldest first.
 */
export const AGENT_UPDATE_VERBS = {
  desired: 'update.desired',
  lock: 'update.lock',
} as const;
/** Topic of the notice on `Subjects.node(nodeId, topic)`. */
export const UPDATE_NOTICE_TOPIC = 'update';
/** Area of the report on `Subjects.agentReport(nodeId, area)`. */
export const UPDATE_REPORT_AREA = 'update';

export const desiredUpdateRequestSchema = z.object({ v: z.literal(1) });

export const desiredReleaseSchema = z.object({
  id: z.string().uuid().nullable(),
  version: versionSchema,
  channel: z.string(),
  arch: z.string(),
  /** Null only for a rollback to a release the updater does not know: the agent switches slots. */
  payload: payloadSchema.nullable(),
});

export const desiredUpdateSchema = z.object({
  v: z.literal(1),
  /** Null: no update wanted (none yet, or aborted: discard a staged, not yet booted image). */
  update: z
    .object({
      rolloutId: z.string().uuid(),
      release: desiredReleaseSchema,
      /**
       * True for an operator rollback: switch back to the other slot, which holds `release`
       * (no download); a lower version than the booted one is expected and allowed.
       */
      rollback: z.boolean(),
      /** Grows each time this node's desired update changes; ignore a notice older than what you have. */
      revision: z.number().int().nonnegative(),
      /** Reboot-slot group the agent must name in lock requests. */
      group: z.string(),
    })
    .nullable(),
});
export type DesiredUpdate = z.output<typeof desiredUpdateSchema>;

/** States an agent reports (`pending` is the controller's). */
export const reportedStateSchema = nodeUpdateStateSchema.exclude(['pending']);

export const updateReportSchema = z
  .object({
    v: z.literal(1),
    rolloutId: z.string().uuid(),
    /** The version the report is about (the desired release's). */
    version: versionSchema,
    state: reportedStateSchema,
    /** Required with `failed` and `rolled_back`. */
    code: failureCodeSchema.optional(),
    message: z.string().max(2000).optional(),
    /** When the transition happened on the node. */
    at: z.string().datetime({ offset: true }),
    /** The version booted when the update began (recommended with `downloading`): rollback returns to it. */
    fromVersion: versionSchema.optional(),
  })
  .refine((r) => !['failed', 'rolled_back'].includes(r.state) || r.code !== undefined, {
    message: 'failed and rolled_back reports need a code',
    path: ['code'],
  });
export type UpdateReport = z.output<typeof updateReportSchema>;
export type UpdateReportInput = z.input<typeof updateReportSchema>;

/** The JetStream message id for a report: one per (node, rollout, rollback?, state, attempt time). */
export function updateReportMsgId(nodeId: string, report: Pick<UpdateReport, 'rolloutId' | 'state' | 'at' | 'version'>): string {
  return `${nodeId}.${report.rolloutId}.${report.version}.${report.state}.${Date.parse(report.at)}`;
}

export const lockActionSchema = z.enum(['acquire', 'renew', 'release']);
export const lockRequestSchema = z.object({
  v: z.literal(1),
  action: lockActionSchema,
  group: groupSchema,
  /** Lease length (default: the service's `UPDATER_LOCK_LEASE_SECONDS`). Renew before it ends. */
  leaseSeconds: z.number().int().min(5).max(24 * 3600).optional(),
});
export type LockRequest = z.input<typeof lockRequestSchema>;

/** Topic of the slot-freed notice on `Subjects.node(nodeId, topic)`. */
export const LOCK_NOTICE_TOPIC = 'update.lock';
export const lockNoticeSchema = z.object({ v: z.literal(1), group: z.string(), event: z.literal('slot_free') });
export type LockNotice = z.output<typeof lockNoticeSchema>;

export const lockDenialReasonSchema = z.enum(['lock_unavailable', 'outside_maintenance_window']);
export type LockDenialReason = z.output<typeof lockDenialReasonSchema>;

/**
 * Answer to acquire/renew: granted with the lease end, or denied with a reason and a hint when
 * to retry. Release answers `{granted:false, released:true|false}`.
 */
export const lockReplySchema = z.discriminatedUnion('granted', [
  z.object({
    granted: z.literal(true),
    group: z.string(),
    holder: z.string(),
    /** False when the holder already held it (recursive: still one slot). */
    newlyAcquired: z.boolean(),
    expiresAt: z.string(),
    capacity: z.number().int(),
    holders: z.number().int(),
  }),
  z.object({
    granted: z.literal(false),
    group: z.string(),
    holder: z.string(),
    reason: lockDenialReasonSchema.nullable(),
    message: z.string(),
    retryAfterSeconds: z.number().nullable(),
    /** Set for a release: whether a slot was freed. */
    released: z.boolean().optional(),
    capacity: z.number().int(),
    holders: z.number().int(),
  }),
]);
export type LockReply = z.output<typeof lockReplySchema>;

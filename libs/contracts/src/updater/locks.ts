import { z } from 'zod';
import { groupSchema } from '../common/ids.js';
import { maintenanceWindowSchema } from './windows.js';

/**
 * Admin / FleetLock API of the reboot semaphore: `<root>.svc.updater.locks.<verb>`.
 * Holder ids are node ids for agents, or Zincati's `client_params.id` for FleetLock.
 */
export const lockHolderIdSchema = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'holder id: printable ASCII, no spaces');

export const listLocksSchema = z.object({ group: groupSchema.optional() });
export const lockHolderViewSchema = z.object({
  id: z.string(),
  acquiredAt: z.string(),
  renewedAt: z.string(),
  expiresAt: z.string(),
});
export const groupLocksViewSchema = z.object({
  group: z.string(),
  capacity: z.number().int(),
  /** Where capacity and windows come from: a running rollout, the group's policy, or the default. */
  policySource: z.enum(['rollout', 'policy', 'default']),
  windowOpen: z.boolean(),
  holders: z.array(lockHolderViewSchema),
});
export type GroupLocksView = z.output<typeof groupLocksViewSchema>;
export const listLocksReplySchema = z.object({ items: z.array(groupLocksViewSchema) });

/** FleetLock semantics: recursive, owned by `id`. */
export const acquireLockSchema = z.object({
  id: lockHolderIdSchema,
  group: groupSchema,
  leaseSeconds: z.number().int().min(5).max(24 * 3600).optional(),
});
export const releaseLockSchema = z.object({ id: lockHolderIdSchema, group: groupSchema });
export const releaseLockReplySchema = z.object({ released: z.boolean() });
/** Admin: frees one holder's slot (`id`) or every slot of the group. */
export const forceReleaseLockSchema = z.object({ group: groupSchema, id: lockHolderIdSchema.optional() });
export const forceReleaseReplySchema = z.object({ released: z.array(z.string()) });

/**
 * Standing reboot policy of a group, used when no running rollout names the group (FleetLock
 * clients, nodes between rollouts). A running rollout's slots and windows take precedence.
 */
export const groupPolicySchema = z.object({
  group: groupSchema,
  slots: z.number().int().min(1).max(100_000),
  windows: z.array(maintenanceWindowSchema).max(32).default([]),
});
export type GroupPolicy = z.output<typeof groupPolicySchema>;
export const getGroupPolicySchema = z.object({ group: groupSchema });
export const groupPolicyViewSchema = groupPolicySchema.extend({
  source: z.enum(['policy', 'default']),
});

import { z } from 'zod';
import { channelSchema, groupSchema } from '../common/ids.js';
import { maintenanceWindowSchema } from './windows.js';

export const rolloutStateSchema = z.enum(['pending', 'running', 'paused', 'completed', 'aborted', 'rolled_back']);
export type RolloutState = z.output<typeof rolloutStateSchema>;

/**
 * Per-node update states, in order. `succeeded`, `failed` and `rolled_back` are terminal.
 * During an operator rollback the same states are reused with `rollback: true`.
 */
export const NODE_UPDATE_STATES = [
  'pending',
  'downloading',
  'staged',
  'awaiting_reboot',
  'rebooting',
  'verifying',
  'succeeded',
  'failed',
  'rolled_back',
] as const;
export const nodeUpdateStateSchema = z.enum(NODE_UPDATE_STATES);
export type NodeUpdateState = z.output<typeof nodeUpdateStateSchema>;
export const TERMINAL_NODE_STATES: readonly NodeUpdateState[] = ['succeeded', 'failed', 'rolled_back'];

/** Failure codes an agent (or the controller) attaches to `failed` / `rolled_back`. Others are allowed too. */
export const KNOWN_FAILURE_CODES = [
  'download_failed',
  'checksum_mismatch',
  'bad_signature',
  'wrong_arch',
  'downgrade_refused',
  'write_failed',
  'reboot_failed',
  'health_check_failed',
  'verify_deadline',
  'timeout',
  'aborted',
  'internal',
] as const;
export const failureCodeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'code: snake_case, at most 64 chars');

const percent = z.number().gt(0).max(100);

export const wavesStrategySchema = z.object({
  type: z.literal('waves'),
  /** Cumulative percentages of the target, ascending, the last one 100: `[1, 10, 50, 100]`. */
  waves: z
    .array(percent)
    .min(1)
    .max(20)
    .refine((w) => w.every((p, i) => i === 0 || p > w[i - 1]), 'waves must be strictly ascending')
    .refine((w) => w[w.length - 1] === 100, 'the last wave must be 100'),
  /** Wait after a wave has finished before opening the next. */
  soakSeconds: z.number().int().min(0).max(30 * 24 * 3600).default(0),
});
export const linearStrategySchema = z.object({
  type: z.literal('linear'),
  /** Ramp start (default: when the rollout starts). */
  start: z.string().datetime({ offset: true }).optional(),
  /** From 0% at `start` to 100% after this long. */
  durationSeconds: z.number().int().min(0).max(365 * 24 * 3600),
});
export const strategySchema = z.discriminatedUnion('type', [wavesStrategySchema, linearStrategySchema]);
export type Strategy = z.output<typeof strategySchema>;

export const rolloutTargetSchema = z.object({
  /** Defaults to the release's channel. */
  channel: channelSchema.optional(),
  selector: z.string().max(4096).optional(),
  groups: z.array(groupSchema).max(256).optional(),
});

export const createRolloutSchema = z.object({
  releaseId: z.string().uuid(),
  target: rolloutTargetSchema.default({}),
  strategy: strategySchema.default({ type: 'waves', waves: [1, 10, 50, 100], soakSeconds: 600 }),
  /** Max machines of one group holding a reboot slot at once. */
  rebootSlotsPerGroup: z.number().int().min(1).max(100_000).default(1),
  /** Per-group overrides of `rebootSlotsPerGroup`. */
  groupSlots: z.record(groupSchema, z.number().int().min(1).max(100_000)).default({}),
  /** Per-group windows; key `*` applies to groups without their own entry. No entry: always open. */
  maintenanceWindows: z
    .record(z.union([groupSchema, z.literal('*')]), z.array(maintenanceWindowSchema).min(1).max(32))
    .default({}),
  /** A wave whose failed share passes this pauses the rollout. */
  failureThresholdPercent: z.number().min(0).max(100).default(5),
  /** A node that stays this long in one working state (`awaiting_reboot` excepted) is marked failed. */
  nodeTimeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  /**
   * A node in `awaiting_reboot` that neither reports nor asks for a reboot slot for this long is
   * marked failed (and its slot freed). Waiting agents ask at least every `pollSeconds` (900 by
   * default), so keep this above that.
   */
  rebootWaitTimeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  /** Start paused (the controller resolves the target but activates nobody until resumed). */
  paused: z.boolean().default(false),
  description: z.string().max(2000).default(''),
});
export type CreateRollout = z.input<typeof createRolloutSchema>;

export const waveViewSchema = z.object({
  index: z.number().int(),
  /** Cumulative percent of the target (waves) or the current ramp share (linear). */
  percent: z.number(),
  total: z.number().int(),
  byState: z.record(z.string(), z.number().int()),
  openedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const rolloutViewSchema = z.object({
  id: z.string().uuid(),
  releaseId: z.string().uuid(),
  version: z.string(),
  channel: z.string(),
  arch: z.string(),
  /** Release the rollout replaces, used for rollback when a node did not say where it came from. */
  previousVersion: z.string().nullable(),
  target: z.object({ channel: z.string(), selector: z.string().nullable(), groups: z.array(z.string()) }),
  strategy: strategySchema,
  rebootSlotsPerGroup: z.number().int(),
  groupSlots: z.record(z.string(), z.number().int()),
  maintenanceWindows: z.record(z.string(), z.array(maintenanceWindowSchema)),
  failureThresholdPercent: z.number(),
  nodeTimeoutSeconds: z.number().int(),
  rebootWaitTimeoutSeconds: z.number().int(),
  description: z.string(),
  state: rolloutStateSchema,
  reason: z.string().nullable(),
  currentWave: z.number().int(),
  waves: z.array(waveViewSchema),
  counts: z.object({ total: z.number().int(), byState: z.record(z.string(), z.number().int()) }),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  updatedAt: z.string(),
  endedAt: z.string().nullable(),
});
export type RolloutView = z.output<typeof rolloutViewSchema>;

export const listRolloutsSchema = z.object({
  state: z.union([rolloutStateSchema, z.array(rolloutStateSchema).max(6)]).optional(),
  releaseId: z.string().uuid().optional(),
  channel: channelSchema.optional(),
  limit: z.number().int().min(1).max(500).default(50),
  /** Opaque; pass `nextCursor` from the previous page. Newest first. */
  cursor: z.string().max(256).optional(),
});
export type ListRollouts = z.input<typeof listRolloutsSchema>;
export const rolloutPageSchema = z.object({ items: z.array(rolloutViewSchema), nextCursor: z.string().nullable() });

export const rolloutIdSchema = z.object({ id: z.string().uuid() });
/** pause / resume / abort / rollback. */
export const rolloutActionSchema = z.object({ id: z.string().uuid(), reason: z.string().max(500).optional() });
export type RolloutAction = z.input<typeof rolloutActionSchema>;

export const nodeTransitionSchema = z.object({
  state: nodeUpdateStateSchema,
  at: z.string(),
  code: z.string().optional(),
  message: z.string().optional(),
});

export const rolloutNodeViewSchema = z.object({
  nodeId: z.string(),
  group: z.string(),
  wave: z.number().int(),
  /** Stable bucket 0..9999 from the node id: which wave (or ramp share) picks it. */
  bucket: z.number().int(),
  state: nodeUpdateStateSchema,
  code: z.string().nullable(),
  message: z.string().nullable(),
  rollback: z.boolean(),
  /** When its wave opened for it (desired update set); null while waiting. */
  activatedAt: z.string().nullable(),
  stateAt: z.string(),
  fromVersion: z.string().nullable(),
  transitions: z.array(nodeTransitionSchema),
});
export type RolloutNodeView = z.output<typeof rolloutNodeViewSchema>;

export const rolloutNodesSchema = z.object({
  id: z.string().uuid(),
  state: z.union([nodeUpdateStateSchema, z.array(nodeUpdateStateSchema).max(9)]).optional(),
  group: groupSchema.optional(),
  wave: z.number().int().min(0).optional(),
  nodeId: z.string().max(128).optional(),
  /** Only nodes whose wave has opened. */
  activated: z.boolean().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** Opaque; pass `nextCursor` from the previous page. Ordered by node id. */
  cursor: z.string().max(256).optional(),
});
export type RolloutNodesQuery = z.input<typeof rolloutNodesSchema>;
export const rolloutNodePageSchema = z.object({
  items: z.array(rolloutNodeViewSchema),
  total: z.number().int(),
  nextCursor: z.string().nullable(),
});

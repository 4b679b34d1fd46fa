import { z } from 'zod';
import { nodeUpdateStateSchema, rolloutStateSchema } from './rollouts.js';

/** Events on `<root>.events.updater.<event>` (`bus.emit('updater', event, data)`). */
export const UPDATER_EVENTS = {
  releaseCreated: 'release.created',
  releaseWithdrawn: 'release.withdrawn',
  rolloutCreated: 'rollout.created',
  /** Every rollout state change: started, paused, resumed, completed, aborted, rolled_back. */
  rolloutState: 'rollout.state',
  waveOpened: 'rollout.wave_opened',
  /** Superseded by `node.states` (not emitted): one event per transition was too many at fleet scale. */
  nodeState: 'node.state',
  /** Node transitions of one rollout, batched (≤ 500 per event, in order). */
  nodeStates: 'node.states',
  lockAcquired: 'lock.acquired',
  lockReleased: 'lock.released',
  lockExpired: 'lock.expired',
} as const;

export const releaseEventSchema = z.object({ id: z.string(), version: z.string(), channel: z.string(), arch: z.string(), reason: z.string().optional() });
export const rolloutStateEventSchema = z.object({
  rolloutId: z.string(),
  version: z.string(),
  from: rolloutStateSchema.nullable(),
  state: rolloutStateSchema,
  reason: z.string().nullable(),
});
export const waveOpenedEventSchema = z.object({ rolloutId: z.string(), wave: z.number().int(), percent: z.number(), nodes: z.number().int() });
export const nodeStateEventSchema = z.object({
  rolloutId: z.string(),
  nodeId: z.string(),
  from: nodeUpdateStateSchema,
  state: nodeUpdateStateSchema,
  rollback: z.boolean(),
  code: z.string().nullable(),
  at: z.string(),
});
export const nodeStatesEventSchema = z.object({
  rolloutId: z.string(),
  transitions: z.array(nodeStateEventSchema.omit({ rolloutId: true })),
});

export const lockEventSchema = z.object({
  group: z.string(),
  holder: z.string(),
  /** release: `owner` | `forced` | `timeout` (its node was timed out in a rollout). */
  by: z.enum(['owner', 'forced', 'expiry', 'timeout']).optional(),
});

import { z } from 'zod';
import { channelSchema } from '../common/ids.js';
import { archSchema } from './releases.js';

/**
 * Update graph of one (channel, arch), Cincinnati-shaped: `edges` are `[from, to]` indices into
 * `nodes`. `metadata` values are strings. Keys follow Fedora CoreOS so Zincati understands them:
 */
export const GRAPH_METADATA = {
  scheme: 'org.fedoraproject.coreos.scheme',
  ageIndex: 'org.fedoraproject.coreos.releases.age_index',
  barrier: 'org.fedoraproject.coreos.updates.barrier',
  barrierReason: 'org.fedoraproject.coreos.updates.barrier_reason',
  deadEnd: 'org.fedoraproject.coreos.updates.deadend',
  deadEndReason: 'org.fedoraproject.coreos.updates.deadend_reason',
  rolloutStartEpoch: 'org.fedoraproject.coreos.updates.start_epoch',
  rolloutStartValue: 'org.fedoraproject.coreos.updates.start_value',
  rolloutDurationMinutes: 'org.fedoraproject.coreos.updates.duration_minutes',
  /** Fleetcore payload details (the node `payload` string is the sha256, scheme `checksum`). */
  payloadUrl: 'io.fleetcore.payload.url',
  payloadSize: 'io.fleetcore.payload.size',
  payloadSignature: 'io.fleetcore.payload.signature',
  releaseId: 'io.fleetcore.release.id',
} as const;

export const graphRequestSchema = z.object({
  channel: channelSchema,
  arch: archSchema,
  /**
   * 0 (eager) .. 1 (wary): edges to a release whose Cincinnati rollout has not yet reached this
   * share are left out. Omitted: derived from `nodeUuid` when given, else no filtering.
   */
  wariness: z.number().min(0).max(1).optional(),
  nodeUuid: z.string().max(128).optional(),
  /** Evaluate the rollout ramp at this time instead of now (tests, previews). */
  at: z.string().datetime({ offset: true }).optional(),
});
export type GraphRequest = z.input<typeof graphRequestSchema>;

export const graphNodeSchema = z.object({
  version: z.string(),
  payload: z.string(),
  metadata: z.record(z.string(), z.string()),
});
export const graphSchema = z.object({
  nodes: z.array(graphNodeSchema),
  edges: z.array(z.tuple([z.number().int(), z.number().int()])),
});
export type UpdateGraph = z.output<typeof graphSchema>;

import { z } from 'zod';
import { configFileSchema } from './items.js';
import { fileResultSchema } from './api.js';
import { driftEntrySchema } from './drift.js';

/**
 * Agent protocol for config files (plain versioned JSON, any NATS client can speak it):
 *
 * - `<root>.node.<nodeId>.config` (platform → agent, publish): {@link configNoticeSchema}, the
 *   node's desired (revision, hash), with the files inline when small. Level-triggered: the agent
 *   also fetches on start/reconnect.
 * - `<root>.agent.<nodeId>.config.bundle` (agent → config, request/reply): {@link bundleRequestSchema}
 *   → {@link bundleSchema}, the node's effective bundle.
 * - `<root>.agent.<nodeId>.report.config` (agent → config, JetStream): {@link configReportSchema},
 *   apply acknowledgements and drift reports.
 */
export const CONFIG_NOTICE_TOPIC = 'config';
export const CONFIG_BUNDLE_VERB = 'config.bundle';
export const CONFIG_REPORT_AREA = 'config';

export const configNoticeSchema = z.object({
  v: z.literal(1),
  revision: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * The bundle's files inline, when they are small (see `CONFIG_INLINE_NOTICE_BYTES`): the agent
   * applies them (after checking `hash`) without the bundle request round trip. Absent → fetch.
   */
  files: z.array(configFileSchema).optional(),
});
export type ConfigNotice = z.output<typeof configNoticeSchema>;

export const bundleRequestSchema = z.object({ v: z.literal(1) });

export const bundleSchema = z.object({
  v: z.literal(1),
  nodeId: z.string(),
  revision: z.number().int().min(0),
  /** Canonical hash of `files` (see `bundleHash`); the agent recomputes and rejects a mismatch. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  files: z.array(configFileSchema),
});
export type Bundle = z.output<typeof bundleSchema>;

export const reloadResultSchema = z.object({ action: z.string(), ok: z.boolean(), message: z.string().max(2048).optional() });

export const configReportSchema = z.object({
  v: z.literal(1),
  /** `apply`: the result of applying a bundle; `drift`: a periodic re-hash of managed files. */
  kind: z.enum(['apply', 'drift']),
  revision: z.number().int().min(0),
  hash: z.string(),
  /** True when every file of the bundle is in place (the node is on `revision`). */
  ok: z.boolean(),
  files: z.array(fileResultSchema).max(10_000).default([]),
  reloads: z.array(reloadResultSchema).max(1000).default([]),
  drift: z.array(driftEntrySchema).max(10_000).default([]),
  /** Drifted files were rewritten (`remediateDrift: true`). */
  remediated: z.boolean().default(false),
  at: z.string().datetime({ offset: true }),
});
export type ConfigReport = z.output<typeof configReportSchema>;
export type ConfigReportInput = z.input<typeof configReportSchema>;

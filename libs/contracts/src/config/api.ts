import { z } from 'zod';
import { driftEntrySchema } from './drift.js';
import { configFileSchema, configPathSchema, scopeSchema } from './items.js';

/** Request/reply API of the config service: `<root>.svc.config.<verb>`. */
export const CONFIG = 'config';
export const configVerbs = {
  itemsList: 'items.list',
  draftSet: 'drafts.set',
  draftRemove: 'drafts.remove',
  draftList: 'drafts.list',
  draftDiscard: 'drafts.discard',
  publish: 'publish',
  revisions: 'revisions.list',
  revision: 'revisions.get',
  diff: 'diff',
  rollback: 'rollback',
  schemaPut: 'schemas.put',
  schemaList: 'schemas.list',
  schemaDelete: 'schemas.delete',
  status: 'status',
  nodeStatus: 'status.node',
  drift: 'drift',
  canaryPromote: 'canary.promote',
  canaryAbort: 'canary.abort',
  effective: 'effective',
  validate: 'validate',
} as const;

const author = z.string().min(1).max(128);

export const itemsListSchema = z.object({
  /** Revision to list; the latest published when absent. */
  revision: z.number().int().positive().optional(),
  pathPrefix: z.string().max(1024).optional(),
});

export const draftSetSchema = z.object({ scope: scopeSchema, file: configFileSchema, author });
export const draftRemoveSchema = z.object({ scope: scopeSchema, path: configPathSchema, author });
export const draftDiscardSchema = z.object({}).passthrough();

export const draftViewSchema = z.object({
  scope: scopeSchema,
  path: z.string(),
  op: z.enum(['set', 'remove']),
  file: configFileSchema.nullable(),
  author: z.string(),
  updatedAt: z.string(),
});
export type DraftView = z.output<typeof draftViewSchema>;

/** A canary is a label selector or a percentage of nodes picked stably by node id hash. */
export const canarySchema = z
  .object({
    selector: z.string().min(1).max(1024).optional(),
    percent: z.number().gt(0).max(100).optional(),
  })
  .refine((c) => (c.selector === undefined) !== (c.percent === undefined), 'canary: give exactly one of selector or percent');
export type Canary = z.output<typeof canarySchema>;

export const publishSchema = z.object({
  author,
  message: z.string().min(1).max(1024),
  /** Compare-and-set: fail with `revision_conflict` unless this is the latest revision (0 = none yet). */
  expectedRevision: z.number().int().min(0).optional(),
  canary: canarySchema.optional(),
});
export type PublishInput = z.input<typeof publishSchema>;

export const revisionViewSchema = z.object({
  revision: z.number().int(),
  author: z.string(),
  message: z.string(),
  createdAt: z.string(),
  itemCount: z.number().int(),
  rolledBackFrom: z.number().int().nullable(),
});
export type RevisionView = z.output<typeof revisionViewSchema>;

export const revisionsListSchema = z.object({ limit: z.number().int().min(1).max(500).default(50), before: z.number().int().optional() });
export const revisionGetSchema = z.object({ revision: z.number().int().positive() });

export const diffSchema = z.object({ from: z.number().int().min(0), to: z.number().int().positive() });
export const diffChangeSchema = z.object({
  scope: scopeSchema,
  path: z.string(),
  change: z.enum(['added', 'removed', 'modified']),
  /** Fields that differ for `modified` (content, mode, owner, reload, check, encoding). */
  fields: z.array(z.string()),
  before: configFileSchema.nullable(),
  after: configFileSchema.nullable(),
});
export type DiffChange = z.output<typeof diffChangeSchema>;

export const rollbackSchema = z.object({
  to: z.number().int().positive(),
  author,
  message: z.string().max(1024).optional(),
  expectedRevision: z.number().int().min(0).optional(),
});

export const schemaPutSchema = z.object({
  /** Glob over absolute paths: `*` within one segment, `**` across segments. */
  pattern: z.string().min(2).max(512).startsWith('/'),
  schema: z.record(z.string(), z.unknown()),
});
export const schemaDeleteSchema = z.object({ pattern: z.string().min(1).max(512) });

export const fileResultSchema = z.object({
  path: z.string(),
  result: z.enum(['written', 'unchanged', 'removed', 'check_failed', 'refused', 'error']),
  message: z.string().max(2048).optional(),
});
export type FileResult = z.output<typeof fileResultSchema>;

export const nodeConfigStatusSchema = z.object({
  nodeId: z.string(),
  desiredRevision: z.number().int().nullable(),
  desiredHash: z.string().nullable(),
  appliedRevision: z.number().int().nullable(),
  appliedHash: z.string().nullable(),
  inSync: z.boolean(),
  canary: z.boolean(),
  lastResult: z
    .object({ ok: z.boolean(), revision: z.number().int(), hash: z.string(), files: z.array(fileResultSchema), at: z.string() })
    .nullable(),
  drift: z.array(driftEntrySchema),
  driftAt: z.string().nullable(),
});
export type NodeConfigStatus = z.output<typeof nodeConfigStatusSchema>;

export const statusQuerySchema = z.object({ nodeId: z.string().optional() });
export const nodeStatusQuerySchema = z.object({ nodeId: z.string().min(1) });
export const driftQuerySchema = z.object({ limit: z.number().int().min(1).max(1000).default(100) });

export const fleetStatusSchema = z.object({
  latestRevision: z.number().int(),
  stableRevision: z.number().int(),
  canary: z
    .object({ revision: z.number().int(), previousRevision: z.number().int(), selector: z.string().nullable(), percent: z.number().nullable(), nodes: z.number().int(), startedAt: z.string() })
    .nullable(),
  nodes: z.number().int(),
  inSync: z.number().int(),
  drifted: z.number().int(),
  /** Nodes whose last apply failed (for any revision). */
  failed: z.number().int(),
  /**
   * Nodes that have not answered for their desired content yet: neither applied it nor reported
   * it failing. What `config watch` waits for (offline nodes stay here until they return).
   */
  pending: z.number().int(),
  /**
   * Nodes that never reported anything since they became known, longer ago than the ack grace:
   * most likely agents without the config feature (or unreachable since). Not in `pending`.
   */
  silent: z.number().int(),
  /** The desired rows are still being rewritten after a deployment change (publish, canary, …). */
  reconciling: z.boolean(),
  /** Nodes per applied revision (`none` = never acknowledged). */
  byAppliedRevision: z.record(z.string(), z.number().int()),
  byDesiredRevision: z.record(z.string(), z.number().int()),
});
export type FleetStatus = z.output<typeof fleetStatusSchema>;

export const canaryActionSchema = z.object({ author });
export const effectiveQuerySchema = z.object({ nodeId: z.string().min(1) });

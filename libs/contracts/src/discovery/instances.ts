import { z } from 'zod';
import { groupSchema, nodeIdSchema } from '../common/ids.js';
import { checkDefinitionSchema, checkIdSchema, healthStateSchema } from './checks.js';

/** A service name is a DNS label and a NATS subject token: `<name>.service.fleet`. */
export const serviceNameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'service name: 1-63 of a-z 0-9 -, a DNS label');

/** Tags are DNS labels too (case-insensitive in DNS), so `<tag>.<name>.service.fleet` can name them. */
export const tagSchema = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})$/, 'tag: 1-63 of A-Z a-z 0-9 _ -');

export const instanceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/, 'instance id: 1-200 of A-Z a-z 0-9 _ . : @ -');

export const metaSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'meta key: 1-128 of A-Z a-z 0-9 _ -'), z.string().max(512))
  .refine((meta) => Object.keys(meta).length <= 64, 'at most 64 meta entries');

/** An IPv4/IPv6 literal or a host name. DNS answers only carry instances with IP addresses. */
export const addressSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:%_-]+$/, 'address: an IP address or a host name');

export const portSchema = z.number().int().min(0).max(65535);

function uniqueCheckIds(checks: { id?: string; type: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  checks.forEach((check, i) => {
    const id = check.id ?? `${check.type}-${i + 1}`;
    if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate check id "${id}"`, path: ['checks', i, 'id'] });
    seen.add(id);
  });
}

/**
 * A service definition as written in a file under the agent's `servicesDir` (JSON or YAML) or
 * inline in the agent config. `id` is unique on the node and defaults to `name`.
 */
export const serviceDefinitionSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$/, 'service id: 1-100 of A-Z a-z 0-9 _ . : @ -').optional(),
    name: serviceNameSchema,
    /** Defaults to the agent's advertise address. */
    address: addressSchema.optional(),
    port: portSchema,
    tags: z.array(tagSchema).max(64).default([]),
    meta: metaSchema.default({}),
    checks: z.array(checkDefinitionSchema).max(32).default([]),
  })
  .superRefine((def, ctx) => uniqueCheckIds(def.checks, ctx));
export type ServiceDefinition = z.output<typeof serviceDefinitionSchema>;
export type ServiceDefinitionInput = z.input<typeof serviceDefinitionSchema>;

/** Where an instance came from: an agent's definition files, the API, or the platform itself. */
export const instanceSourceSchema = z.enum(['agent', 'api', 'platform']);
export type InstanceSource = z.output<typeof instanceSourceSchema>;

export const checkViewSchema = z.object({
  id: checkIdSchema,
  type: z.enum(['ttl', 'http', 'tcp', 'command']),
  name: z.string(),
  status: healthStateSchema,
  output: z.string(),
  /** When the status was last observed. */
  updatedAt: z.string(),
  /** The definition as registered (interval, timeout, thresholds...). */
  definition: z.record(z.string(), z.unknown()),
});
export type CheckView = z.output<typeof checkViewSchema>;

export const instanceViewSchema = z.object({
  id: instanceIdSchema,
  service: serviceNameSchema,
  /** The node the instance runs on; null for services registered from off the fleet. */
  nodeId: nodeIdSchema.nullable(),
  source: instanceSourceSchema,
  address: z.string(),
  port: z.number().int(),
  tags: z.array(z.string()),
  meta: z.record(z.string(), z.string()),
  /** The fleet group plays the role of Consul's datacenter. */
  group: z.string(),
  checks: z.array(checkViewSchema),
  /** True while the inventory reports the node offline; the instance is critical meanwhile. */
  nodeOffline: z.boolean(),
  health: healthStateSchema,
  criticalSince: z.string().nullable(),
  deregisterCriticalAfterMs: z.number().int().nullable(),
  createIndex: z.number().int(),
  modifyIndex: z.number().int(),
  registeredAt: z.string(),
  updatedAt: z.string(),
});
export type InstanceView = z.output<typeof instanceViewSchema>;

export const healthCountsSchema = z.object({
  passing: z.number().int(),
  warning: z.number().int(),
  critical: z.number().int(),
});
export type HealthCounts = z.output<typeof healthCountsSchema>;

export const serviceSummarySchema = z.object({
  name: serviceNameSchema,
  tags: z.array(z.string()),
  instances: z.number().int(),
  counts: healthCountsSchema,
  modifyIndex: z.number().int(),
});
export type ServiceSummary = z.output<typeof serviceSummarySchema>;


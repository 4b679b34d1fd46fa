import { z } from 'zod';
import { groupSchema, nodeIdSchema } from '../common/ids.js';
import { ttlCheckSchema, checkIdSchema, healthStateSchema } from './checks.js';
import {
  addressSchema,
  instanceIdSchema,
  instanceSourceSchema,
  instanceViewSchema,
  metaSchema,
  portSchema,
  serviceNameSchema,
  serviceSummarySchema,
  tagSchema,
} from './instances.js';

/** Request/reply API of the discovery service: `<root>.svc.discovery.<verb>`. */
export const DISCOVERY = 'discovery';
export const discoveryVerbs = {
  register: 'register',
  deregister: 'deregister',
  /** TTL check update for API-registered instances (pass/warn/fail). */
  ttl: 'ttl',
  get: 'get',
  list: 'list',
  instances: 'instances',
  /** Instances across services (by node, tag, state...). */
  query: 'query',
} as const;

/** Longest a blocking query may wait; Consul's cap is 10 minutes too. */
export const MAX_WAIT_MS = 600_000;
export const DEFAULT_WAIT_MS = 300_000;

/**
 * Blocking-query parameters. With `index`, the reply comes as soon as the relevant index is
 * greater than `index`, or after `waitMs` (default 5 min) with the unchanged index. A NATS
 * caller must use a request timeout longer than `waitMs`.
 */
const blocking = {
  index: z.number().int().min(0).optional(),
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
};

const filters = {
  /** All of these tags. */
  tags: z.array(tagSchema).max(16).optional(),
  /** Label selector on the instance's node (resolved through the inventory). */
  nodeSelector: z.string().max(4096).optional(),
  group: groupSchema.optional(),
  nodeId: nodeIdSchema.optional(),
  /** Only instances whose health is passing. */
  passingOnly: z.boolean().optional(),
  /** Only instances in these states. */
  states: z.array(healthStateSchema).max(3).optional(),
};

export const instancesQuerySchema = z.strictObject({ service: serviceNameSchema, ...filters, ...blocking });
export type InstancesQuery = z.input<typeof instancesQuerySchema>;

export const queryInstancesSchema = z.strictObject({
  service: serviceNameSchema.optional(),
  ...filters,
  limit: z.number().int().min(1).max(10_000).default(1000),
});
export type QueryInstances = z.input<typeof queryInstancesSchema>;

export const instancesReplySchema = z.object({ index: z.number().int(), instances: z.array(instanceViewSchema) });
export type InstancesReply = z.output<typeof instancesReplySchema>;

export const listServicesSchema = z.strictObject({
  tag: tagSchema.optional(),
  group: groupSchema.optional(),
  ...blocking,
});
export type ListServices = z.input<typeof listServicesSchema>;
export const listServicesReplySchema = z.object({ index: z.number().int(), services: z.array(serviceSummarySchema) });
export type ListServicesReply = z.output<typeof listServicesReplySchema>;

/**
 * Registers a service instance that no agent manages (a database off the fleet, a control-plane
 * service). Only TTL checks are allowed: no agent runs probes for it. Idempotent by `id`.
 */
export const registerInstanceSchema = z.strictObject({
  id: instanceIdSchema.optional(),
  name: serviceNameSchema,
  address: addressSchema,
  port: portSchema,
  tags: z.array(tagSchema).max(64).default([]),
  meta: metaSchema.default({}),
  group: groupSchema.default('default'),
  /** Set when the instance runs on a fleet node (so it turns critical when the node goes offline). */
  nodeId: nodeIdSchema.optional(),
  checks: z.array(ttlCheckSchema).max(8).default([]),
  source: instanceSourceSchema.exclude(['agent']).default('api'),
});
export type RegisterInstance = z.input<typeof registerInstanceSchema>;

export const instanceReplySchema = z.object({ index: z.number().int(), instance: instanceViewSchema });
export type InstanceReply = z.output<typeof instanceReplySchema>;

export const deregisterInstanceSchema = z.strictObject({ id: instanceIdSchema });
export const deregisterReplySchema = z.object({ index: z.number().int(), id: instanceIdSchema });

export const getInstanceSchema = z.strictObject({ id: instanceIdSchema });

export const ttlUpdateSchema = z.strictObject({
  instanceId: instanceIdSchema,
  checkId: checkIdSchema,
  status: healthStateSchema,
  output: z.string().max(4096).default(''),
});
export type TtlUpdate = z.input<typeof ttlUpdateSchema>;

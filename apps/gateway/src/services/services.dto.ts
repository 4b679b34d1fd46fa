import { z } from 'zod';
import { groupSchema, nodeIdSchema, parseSelector, type FleetError } from '#contracts/common';
import {
  MAX_WAIT_MS,
  durationSchema,
  healthStateSchema,
  instanceIdSchema,
  serviceNameSchema,
  tagSchema,
  type InstancesQuery,
  type ListServices,
  type QueryInstances,
} from '#contracts/discovery';

/**
 * HTTP shapes of `/api/v1/services`. Query parameters are text: repeated ones (`?tag=a&tag=b`)
 * arrive as arrays, `?passing` alone means true, `wait` is a duration (`30s`, `5m`, or seconds)
 * as in Consul's blocking queries. The gateway turns them into the discovery NATS queries.
 */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? undefined : Array.isArray(v) ? v : String(v).split(',')), z.array(item).max(16).optional());

const flag = z.preprocess(
  (v) => (v === '' || v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean().optional(),
);

const blocking = {
  index: z.coerce.number().int().min(0).optional().describe('blocking query: answer once the index differs from this one'),
  wait: durationSchema
    .refine((ms) => ms <= MAX_WAIT_MS, `wait is at most ${MAX_WAIT_MS / 60_000} minutes`)
    .optional()
    .describe('blocking query: longest wait (`30s`, `5m`; default 5m, at most 10m)'),
};

const selector = z
  .string()
  .max(4096)
  .optional()
  .superRefine((value, ctx) => {
    try {
      parseSelector(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as FleetError).message });
    }
  })
  .describe('label selector on the instances\' nodes, e.g. `zone in (a,b)`');

const filters = {
  tag: list(tagSchema).describe('instances carrying every one of these tags (repeat or comma-separate)'),
  selector,
  group: groupSchema.optional().describe('fleet group (the datacenter)'),
  node: nodeIdSchema.optional().describe('only instances on this node'),
  passing: flag.describe('only passing instances'),
  state: list(healthStateSchema).describe('only instances in these states'),
};

export const listServicesQuery = z.strictObject({ tag: tagSchema.optional(), group: groupSchema.optional(), ...blocking });
export const instancesQuery = z.strictObject({ ...filters, ...blocking });
export const queryAllQuery = z.strictObject({
  ...filters,
  service: serviceNameSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export const serviceNameParam = serviceNameSchema;
export const instanceIdParam = instanceIdSchema;
export const ttlVerbParam = z.enum(['pass', 'warn', 'fail']);
export const TTL_VERB_STATE = { pass: 'passing', warn: 'warning', fail: 'critical' } as const;
export const ttlBody = z.strictObject({ output: z.string().max(4096).default('') }).default({ output: '' });

const filterPart = (q: z.output<typeof instancesQuery>) => ({
  ...(q.tag ? { tags: q.tag } : {}),
  ...(q.selector ? { nodeSelector: q.selector } : {}),
  ...(q.group ? { group: q.group } : {}),
  ...(q.node ? { nodeId: q.node } : {}),
  ...(q.passing ? { passingOnly: true } : {}),
  ...(q.state ? { states: q.state } : {}),
});

export function toInstancesQuery(service: string, q: z.output<typeof instancesQuery>): InstancesQuery {
  return { service, ...filterPart(q), ...(q.index !== undefined ? { index: q.index } : {}), ...(q.wait !== undefined ? { waitMs: q.wait } : {}) };
}

export function toListQuery(q: z.output<typeof listServicesQuery>): ListServices {
  return {
    ...(q.tag ? { tag: q.tag } : {}),
    ...(q.group ? { group: q.group } : {}),
    ...(q.index !== undefined ? { index: q.index } : {}),
    ...(q.wait !== undefined ? { waitMs: q.wait } : {}),
  };
}

export function toQueryAll(q: z.output<typeof queryAllQuery>): QueryInstances {
  return { ...filterPart({ ...q }), ...(q.service ? { service: q.service } : {}), limit: q.limit };
}

/**
 * NATS timeout for a blocking query: the wait (default 5 min when an index is given) plus slack;
 * undefined (the gateway's usual timeout) for a query that does not block.
 */
export function blockingTimeoutMs(index: number | undefined, waitMs: number | undefined): number | undefined {
  if (index === undefined || index === 0) return undefined;
  return (waitMs ?? 300_000) + 5000;
}

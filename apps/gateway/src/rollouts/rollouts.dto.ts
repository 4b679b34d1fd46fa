import { z } from 'zod';
import { listRolloutsSchema, nodeUpdateStateSchema, rolloutNodesSchema, rolloutStateSchema } from '#contracts/updater';

/** `a,b,c` or a repeated parameter → array. */
function list<S extends z.ZodType>(item: S) {
  return z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
    z.array(item).min(1).max(9),
  );
}

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export const listRolloutsQuery = listRolloutsSchema.extend({
  state: list(rolloutStateSchema).optional().describe('rollout states, comma-separated'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('page size (1-500)'),
});

export const rolloutNodesQuery = rolloutNodesSchema.omit({ id: true }).extend({
  state: list(nodeUpdateStateSchema).optional().describe('node update states, comma-separated'),
  wave: z.coerce.number().int().min(0).optional().describe('wave index'),
  activated: booleanText.optional().describe('only nodes whose wave has opened (true) or not (false)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('page size (1-1000)'),
});

/** Optional body: a POST without one is fine. */
export const actionBody = z.preprocess(
  (v) => v ?? {},
  z.strictObject({ reason: z.string().max(500).optional().describe('recorded with the action') }),
);

import { z } from 'zod';
import { listReleasesSchema } from '#contracts/updater';

/** Query parameters are text: the updater's list request with numbers and booleans coerced. */
export const listReleasesQuery = listReleasesSchema.extend({
  includeWithdrawn: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('include withdrawn releases'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('page size (1-1000)'),
});

export const uuidParam = z.string().uuid();

export const withdrawBody = z.strictObject({ reason: z.string().min(1).max(500).describe('why it is withdrawn') });

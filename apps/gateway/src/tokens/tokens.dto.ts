import { z } from 'zod';
import { ROLES } from '../auth/roles.js';

/** The name of the token ensured at start-up (FLEET_ADMIN_TOKEN or a generated one). */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/** HTTP shapes of `/api/v1/tokens` (gateway-local: tokens never cross NATS). */
export const createTokenBody = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'name: 1-64 of A-Z a-z 0-9 . _ @ -, starting alphanumeric')
    .refine((name) => name !== BOOTSTRAP_TOKEN_NAME, `"${BOOTSTRAP_TOKEN_NAME}" is reserved for the bootstrap token`),
  role: z.enum(ROLES),
  /** Lifetime in seconds from now; omitted = never expires. */
  expiresInSeconds: z.number().int().min(60).max(10 * 365 * 86400).optional(),
});
export type CreateTokenBody = z.output<typeof createTokenBody>;

export const listTokensQuery = z.object({
  includeRevoked: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const tokenIdParam = z.string().uuid('token id must be a UUID');

export const tokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  prefix: z.string(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.output<typeof tokenViewSchema>;

export const createdTokenSchema = tokenViewSchema.extend({
  token: z.string().describe('the secret; shown this once and never again'),
});

export const tokenListSchema = z.object({ items: z.array(tokenViewSchema) });

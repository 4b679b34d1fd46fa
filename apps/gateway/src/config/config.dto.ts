import { z } from 'zod';
import { canarySchema, configFileSchema, configPathSchema, scopeSchema } from '#contracts/config';

/** HTTP shapes of `/api/v1/config`; the author of every change is the caller's token name. */
export const draftSetBody = z.object({ scope: scopeSchema.default({ kind: 'global' }), file: configFileSchema });
export const draftRemoveBody = z.object({ scope: scopeSchema.default({ kind: 'global' }), path: configPathSchema });
export const publishBody = z.object({
  message: z.string().min(1).max(1024),
  expectedRevision: z.number().int().min(0).optional(),
  canary: canarySchema.optional(),
});
export const rollbackBody = z.object({
  to: z.number().int().positive(),
  message: z.string().max(1024).optional(),
  expectedRevision: z.number().int().min(0).optional(),
});
const int = (min: number) => z.coerce.number().int().min(min);
export const itemsQuery = z.object({ revision: int(1).optional(), pathPrefix: z.string().max(1024).optional() });
export const revisionsQuery = z.object({ limit: int(1).max(500).default(50), before: int(1).optional() });
export const revisionParam = int(1);
export const diffQuery = z.object({ from: int(0), to: int(1) });
export const driftQuery = z.object({ limit: int(1).max(1000).default(100) });
export const schemaBody = z.object({ pattern: z.string().min(2).max(512).startsWith('/'), schema: z.record(z.string(), z.unknown()) });
export const schemaDeleteQuery = z.object({ pattern: z.string().min(1).max(512) });
export const nodeParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'node id');

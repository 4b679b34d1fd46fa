import { isAbsolute, posix } from 'node:path';
import { z } from 'zod';

const absoluteDir = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p) && !p.split('/').includes('..') && posix.normalize(p).replace(/(.)\/+$/, '$1') === p.replace(/(.)\/+$/, '$1'), 'must be an absolute, normalized directory');

/**
 * The `config` section of the agent config file. Without `managedRoots` the feature stays off
 * (an agent config without the section keeps working); with it, the agent manages files, and
 * only ever inside these directories, whatever the server sends.
 */
export const configFeatureSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** Directories the agent may write, replace and remove files in (symlinks are resolved). */
    managedRoots: z.array(absoluteDir).min(1).max(64).optional(),
    /** How often managed files are re-hashed to detect hand edits. */
    driftIntervalSeconds: z.number().positive().max(86_400).default(60),
    /** Rewrite drifted files with the content they should have (and run their reload actions). */
    remediateDrift: z.boolean().default(false),
    /**
     * Fetch the bundle this often even without a notice (with ±10 % jitter): a notice lost while
     * connected is recovered within this long.
     */
    resyncIntervalSeconds: z.number().positive().max(86_400).default(300),
    /** Check commands and reload actions are killed after this long. */
    commandTimeoutSeconds: z.number().positive().max(3600).default(30),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.enabled === true && !c.managedRoots) ctx.addIssue({ code: 'custom', path: ['managedRoots'], message: 'required when config is enabled' });
  })
  .transform((c) => ({ ...c, enabled: c.enabled ?? c.managedRoots !== undefined, managedRoots: (c.managedRoots ?? []).map((r) => (r === '/' ? r : r.replace(/\/+$/, ''))) }));

export type ConfigFeatureConfig = z.output<typeof configFeatureSchema>;

import { z } from 'zod';

/**
 * Drift: a managed file that no longer is what the agent wrote. `missing` and `content` come
 * from its bytes; `mode` from its permission bits; `owner` from its uid/gid, checked only when
 * the bundle named an owner.
 */
export const DRIFT_KINDS = ['missing', 'content', 'mode', 'owner'] as const;
export const driftKindSchema = z.enum(DRIFT_KINDS);
export type DriftKind = z.output<typeof driftKindSchema>;

/** Permission bits as octal text, `0644` / `04755`. */
const modeTextSchema = z.string().regex(/^0[0-7]{3,4}$/);
/** Only the ids that were compared: a bundle naming just a user has no expected gid. */
const ownerIdsSchema = z.object({ uid: z.number().int().min(0).optional(), gid: z.number().int().min(0).optional() });
export type DriftOwner = z.output<typeof ownerIdsSchema>;

/**
 * One drifted file. `path`, `expected` and `found` are the original (content-only) entry, kept
 * so old services and agents interoperate; everything after them is optional and absent in
 * reports from agents that compare content only (read them through {@link driftKinds}).
 */
export const driftEntrySchema = z.object({
  path: z.string(),
  /** sha256 of the content the agent wrote. */
  expected: z.string(),
  /** sha256 found on disk (equal to `expected` for mode/owner-only drift), or `missing`. */
  found: z.string(),
  /**
   * What differs, in the order of {@link DRIFT_KINDS}. Kinds this version does not know (from a
   * newer agent) are dropped rather than failing the whole report.
   */
  kinds: z
    .array(z.string().max(32))
    .max(16)
    .transform((list) => {
      const known = list.filter((k): k is DriftKind => (DRIFT_KINDS as readonly string[]).includes(k));
      return known.length ? known : undefined;
    })
    .optional(),
  /** With `mode`: the bits written and the bits found. */
  expectedMode: modeTextSchema.optional(),
  foundMode: modeTextSchema.optional(),
  /** With `owner`: the ids written and the ids found. */
  expectedOwner: ownerIdsSchema.optional(),
  foundOwner: ownerIdsSchema.optional(),
});
export type DriftEntry = z.output<typeof driftEntrySchema>;

export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** What differs, also for an entry from an agent that only compared content. */
export function driftKinds(entry: Pick<DriftEntry, 'found' | 'kinds'>): DriftKind[] {
  if (entry.kinds?.length) return entry.kinds;
  return entry.found === 'missing' ? ['missing'] : ['content'];
}

/** The entry with `kinds` filled in, so readers of stored drift need not know old agents. */
export function withDriftKinds(entry: DriftEntry): DriftEntry {
  return entry.kinds?.length ? entry : { ...entry, kinds: driftKinds(entry) };
}

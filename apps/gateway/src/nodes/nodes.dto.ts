import { z } from 'zod';
import { groupSchema, isLabelKey, labelsSchema, parseSelector, type FleetError } from '#contracts/common';
import { listNodesSchema, type UpdateNode } from '#contracts/inventory';

/**
 * HTTP shapes of `/api/v1/nodes`. The list query is the inventory's NATS query with strings
 * coerced (query parameters are text); PATCH speaks JSON merge-patch for labels, which the
 * gateway turns into the inventory's set/remove form.
 */
export const listNodesQuery = listNodesSchema.extend({
  selector: z
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
    .describe('label selector, e.g. `env=prod,zone in (a,b),!legacy`'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('page size (1-1000)'),
  cursor: z.string().max(256).optional().describe('`nextCursor` of the previous page'),
});

export const patchNodeBody = z
  .strictObject({
    labels: z
      .record(z.string(), z.string().nullable())
      .optional()
      .describe('labels to set; a null value removes the label (JSON merge-patch)'),
    group: groupSchema.optional(),
  })
  .refine((b) => b.labels !== undefined || b.group !== undefined, 'nothing to change: give labels and/or group');
export type PatchNodeBody = z.output<typeof patchNodeBody>;

/** Turns a merge-patch into the inventory's `update` request (validated there again). */
export function toUpdateRequest(id: string, body: PatchNodeBody): UpdateNode {
  const setLabels: Record<string, string> = {};
  const removeLabels: string[] = [];
  for (const [key, value] of Object.entries(body.labels ?? {})) {
    if (value === null) removeLabels.push(key);
    else setLabels[key] = value;
  }
  return {
    id,
    ...(Object.keys(setLabels).length ? { setLabels } : {}),
    ...(removeLabels.length ? { removeLabels } : {}),
    ...(body.group !== undefined ? { group: body.group } : {}),
  };
}

/** The same checks the inventory makes, at the edge, so a bad patch never leaves the gateway. */
export const checkedPatchNodeBody = patchNodeBody.superRefine((body, ctx) => {
  const set = Object.fromEntries(Object.entries(body.labels ?? {}).filter(([, v]) => v !== null)) as Record<string, string>;
  const result = labelsSchema.safeParse(set);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: ['labels', ...issue.path] } as never);
  for (const [key, value] of Object.entries(body.labels ?? {})) {
    if (value === null && !isLabelKey(key)) ctx.addIssue({ code: 'custom', message: `bad label key "${key}"`, path: ['labels', key] });
  }
});

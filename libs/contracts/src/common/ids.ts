import { z } from 'zod';
import { isLabelKey, isLabelValue } from './selector.js';

/** A node id is one NATS subject token, so a node's credentials can be confined to it. */
export const nodeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'node id: 1-128 of A-Z a-z 0-9 _ -, starting alphanumeric');

export const groupSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9_-]{0,62})$/, 'group: 1-63 of a-z 0-9 _ -, starting alphanumeric');

export const channelSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'channel: 1-63 of a-z 0-9 . _ -');

export const labelsSchema = z
  .record(z.string(), z.string())
  .refine((labels) => Object.keys(labels).length <= 64, 'at most 64 labels')
  .superRefine((labels, ctx) => {
    for (const [key, value] of Object.entries(labels)) {
      if (!isLabelKey(key)) ctx.addIssue({ code: 'custom', message: `bad label key "${key}"`, path: [key] });
      if (!isLabelValue(value)) ctx.addIssue({ code: 'custom', message: `bad label value "${value}"`, path: [key] });
    }
  });

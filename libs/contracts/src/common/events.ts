import { z } from 'zod';

/**
 * Every event on `<root>.events.<area>.<event>` carries this envelope; `data` is the event's own
 * schema, exported by its area. `id` doubles as the JetStream message id, so a retried publish
 * is stored once.
 */
export const eventEnvelopeSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  type: z.string().min(1),
  time: z.string(),
  source: z.string(),
  data: z.unknown(),
});

export type EventEnvelope<T = unknown> = Omit<z.infer<typeof eventEnvelopeSchema>, 'data'> & { data: T };

import { z } from 'zod';
import { ERROR_CODES, FleetError, type ErrorBody } from './errors.js';

/** Every request/reply answer on NATS is one of these two plain JSON shapes. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export const errorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
});

export const replySchema = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorBodySchema }),
]);

export function okReply<T>(data: T): Reply<T> {
  return { ok: true, data };
}

export function errorReply(error: FleetError): Reply<never> {
  return { ok: false, error: error.toBody() };
}

/** Parses `input` with `schema`, turning a failure into a `validation_failed` FleetError. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(root)',
    message: issue.message,
  }));
  const summary = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  throw new FleetError('validation_failed', `invalid ${what}: ${summary}`, { issues });
}

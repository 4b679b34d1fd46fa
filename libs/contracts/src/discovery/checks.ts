import { z } from 'zod';

/** Health of one check or one instance, in Consul's vocabulary. */
export const HEALTH_STATES = ['passing', 'warning', 'critical'] as const;
export const healthStateSchema = z.enum(HEALTH_STATES);
export type HealthState = z.output<typeof healthStateSchema>;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Durations as written in service definition files: `"500ms"`, `"10s"`, `"5m"`, `"1h"`, or a
 * plain number of seconds. Parsed to milliseconds.
 */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      ctx.addIssue({ code: 'custom', message: 'duration must be a non-negative number of seconds' });
      return z.NEVER;
    }
    return Math.round(value * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `bad duration "${value}" (use 500ms, 10s, 5m, 1h)` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * UNITS[m[2]]);
});

const boundedDuration = (min: number, max: number, what: string) =>
  durationSchema.refine((ms) => ms >= min && ms <= max, `${what} must be between ${min} ms and ${max} ms`);

/** A check id is one token, unique within its instance. */
export const checkIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'check id: 1-128 of A-Z a-z 0-9 _ . : -');

const common = {
  id: checkIdSchema.optional(),
  name: z.string().max(200).optional(),
  /** Consecutive successes before a check that is not passing turns passing. */
  successBeforePassing: z.number().int().min(1).max(100).default(1),
  /** Consecutive failures before a passing or warning check turns critical. */
  failuresBeforeCritical: z.number().int().min(1).max(100).default(1),
  /** An instance critical for this long is removed from the catalog. */
  deregisterCriticalAfter: boundedDuration(1000, 30 * 24 * 3_600_000, 'deregisterCriticalAfter').optional(),
};

const probe = {
  interval: boundedDuration(100, 24 * 3_600_000, 'interval').default(10_000),
  timeout: boundedDuration(10, 3_600_000, 'timeout').default(5000),
};

/** The service itself reports (pass/warn/fail) at least every `ttl`, else the check turns critical. */
export const ttlCheckSchema = z.strictObject({
  type: z.literal('ttl'),
  ...common,
  ttl: boundedDuration(100, 7 * 24 * 3_600_000, 'ttl'),
});

/** GET (or `method`) the URL: 2xx passing, 429 warning, anything else or no answer critical. */
export const httpCheckSchema = z.strictObject({
  type: z.literal('http'),
  ...common,
  ...probe,
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
});

/** Passing when a TCP connection to host:port opens within the timeout. */
export const tcpCheckSchema = z.strictObject({
  type: z.literal('tcp'),
  ...common,
  ...probe,
  /** `host:port`; `[v6]:port` for IPv6. */
  tcp: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'tcp target must be host:port'),
});

/** Runs a program (no shell): exit 0 passing, 1 warning, anything else or a timeout critical. */
export const commandCheckSchema = z.strictObject({
  type: z.literal('command'),
  ...common,
  ...probe,
  args: z.array(z.string().max(4096)).min(1).max(64),
});

export const checkDefinitionSchema = z.discriminatedUnion('type', [
  ttlCheckSchema,
  httpCheckSchema,
  tcpCheckSchema,
  commandCheckSchema,
]);
export type CheckDefinition = z.output<typeof checkDefinitionSchema>;
export type CheckDefinitionInput = z.input<typeof checkDefinitionSchema>;

/** A check's definition once its id is settled (defaults to `<type>-<position>`). */
export type ResolvedCheck = CheckDefinition & { id: string };

export function resolveCheckIds(checks: CheckDefinition[]): ResolvedCheck[] {
  return checks.map((check, i) => ({ ...check, id: check.id ?? `${check.type}-${i + 1}` }));
}

/** The status of one check as stored and reported. */
export const checkStatusSchema = z.object({
  status: healthStateSchema,
  output: z.string().max(4096).default(''),
  /** When the status was observed (ISO time); older observations never overwrite newer ones. */
  at: z.string(),
});
export type CheckStatus = z.output<typeof checkStatusSchema>;

const DURATION_KEYS = ['interval', 'timeout', 'ttl', 'deregisterCriticalAfter'] as const;

/**
 * A parsed check back in input form (durations as `"<n>ms"`), for sending a parsed definition
 * on the wire: parsing it again gives the same check (a bare number would mean seconds).
 */
export function checkToInput(check: CheckDefinition): CheckDefinitionInput {
  const out: Record<string, unknown> = { ...check };
  for (const key of DURATION_KEYS) if (typeof out[key] === 'number') out[key] = `${out[key] as number}ms`;
  return out as CheckDefinitionInput;
}

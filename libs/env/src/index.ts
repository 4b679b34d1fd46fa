import { z } from 'zod';

/**
 * Typed, fail-fast environment parsing that works before Nest boots (telemetry needs it).
 * A bad environment produces one error that lists every bad variable at once.
 */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

export function parseEnv<S extends z.ZodObject>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(env)');
    const raw = source[name];
    const shown = raw === undefined ? 'unset' : `"${raw}"`;
    return `${name} (${shown}): ${issue.message}`;
  });
  throw new EnvError(problems);
}

/** Empty strings count as unset, as they do in most shells' `FOO= cmd`. */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const durationMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : ['true', '1', 'yes'].includes(v)));

/**
 * A scraper's static bearer token for `/metrics` (the gateway's and every backend's metrics port).
 * Unset or empty: metrics stay public. Long enough not to be guessed, and a single header token.
 */
const metricsToken = optionalString.pipe(
  z
    .string()
    .min(16, 'at least 16 characters')
    .max(512, 'at most 512 characters')
    .regex(/^\S+$/, 'no whitespace (it travels as a bearer token)')
    .optional(),
);

/** Variables every Fleetcore service reads. */
export const baseEnvSchema = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_CREDENTIALS: optionalString,
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/fleetcore'),
  FLEET_SUBJECT_ROOT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated NATS tokens')
    .default('fleet'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Port for /metrics, /healthz on a backend service; 0 disables it. */
  METRICS_PORT: port(0),
  /** When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; /healthz stays public. */
  METRICS_TOKEN: metricsToken,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  /** Register this process in the discovery catalog, so `fleetctl services ls` shows it. */
  FLEET_SELF_REGISTER: booleanFlag(true),
});

export type BaseEnv = z.output<typeof baseEnvSchema>;

export { optionalString };

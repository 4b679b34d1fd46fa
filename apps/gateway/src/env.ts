import { z } from 'zod';
import { baseEnvSchema, durationMs, optionalString, parseEnv, port } from '#lib/env';

const serviceList = z
  .string()
  .default('inventory')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'comma-separated service names')));

export const gatewayEnvSchema = baseEnvSchema.extend({
  /** HTTP port; 0 picks a free one (tests). */
  PORT: port(8080),
  /** Address to bind; all interfaces by default. */
  HOST: z.string().default('0.0.0.0'),
  /** Ensured to exist as an admin token at every start (bootstrap). At least 32 characters. */
  FLEET_ADMIN_TOKEN: optionalString.pipe(z.string().min(32, 'at least 32 characters').optional()),
  /** Services /readyz requires to answer `ping`. */
  READY_SERVICES: serviceList,
  /** How long /readyz waits for each service's ping. */
  READY_TIMEOUT_MS: durationMs(1000),
  /** Timeout of a gateway → service request. */
  SERVICE_TIMEOUT_MS: durationMs(5000),
  /** Express `trust proxy` (hops or a subnet list) so the rate limiter sees client addresses. */
  TRUST_PROXY: optionalString,
  /** How often batched writes (audit rows, token last-used times) are flushed. */
  GATEWAY_FLUSH_MS: durationMs(1000),
  /** Audit rows older than this many days are deleted (hourly); 0 keeps them forever. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(365),
});

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;

export function parseGatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return parseEnv(gatewayEnvSchema, source);
}

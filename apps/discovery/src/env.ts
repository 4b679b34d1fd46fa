import { z } from 'zod';
import { baseEnvSchema, booleanFlag, durationMs, optionalString, parseEnv, port } from '#lib/env';

export const discoveryEnvSchema = baseEnvSchema.extend({
  /** DNS interface: `<name>.service.<DNS_DOMAIN>` on UDP and TCP. 0 picks a free port. */
  DNS_ENABLED: booleanFlag(true),
  DNS_PORT: port(8600),
  /** 127.0.0.1 like Consul's default; 0.0.0.0 to serve the machines of the fleet. */
  DNS_HOST: z.string().default('127.0.0.1'),
  DNS_DOMAIN: z
    .string()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'lower-case DNS name')
    .default('fleet'),
  /** TTL of DNS answers in seconds; 0 (the default) so clients never cache a dead instance. */
  DNS_TTL: z.coerce.number().int().min(0).max(86_400).default(0),
  /** How often the elected replica expires TTL checks and removes long-critical instances. */
  DISCOVERY_SWEEP_MS: durationMs(1000),
  /** How often each replica reloads its in-memory catalog from PostgreSQL, as a safety net. */
  DISCOVERY_RESYNC_MS: durationMs(30_000),
  /** How soon a standby replica takes over the sweeping after the leader dies. */
  DISCOVERY_LEADER_RETRY_MS: durationMs(2000),
  /** Address the discovery service registers itself under (its DNS endpoint). */
  DISCOVERY_ADVERTISE_ADDRESS: optionalString,
  /** Register this replica in its own catalog as service `discovery`. */
});

export type DiscoveryEnv = z.output<typeof discoveryEnvSchema>;

export function parseDiscoveryEnv(source: NodeJS.ProcessEnv = process.env): DiscoveryEnv {
  return parseEnv(discoveryEnvSchema, source);
}

import { hostname } from 'node:os';
import type { MessageBus } from './bus.js';
import { FleetError } from '#contracts/common';
import { DISCOVERY, discoveryVerbs, type RegisterInstance, type TtlUpdate } from '#contracts/discovery';

export interface PlatformServiceOptions {
  /** Service name as it will appear in `fleetctl services ls` and DNS: `inventory`, `gateway`... */
  name: string;
  /** Where clients reach it (default: FLEET_ADVERTISE_ADDRESS or 127.0.0.1); NATS-only services use port 0. */
  address?: string;
  port?: number;
  tags?: string[];
  meta?: Record<string, string>;
  /** Unique per replica; defaults to `<name>@<hostname>-<pid>`. */
  id?: string;
  /** The instance turns critical this long after the process stops refreshing it. */
  ttlMs?: number;
  /** A dead replica's instance is removed after being critical this long. */
  deregisterCriticalAfterMs?: number;
}

export interface PlatformRegistration {
  readonly id: string;
  /** Stops refreshing and deregisters (best effort, 2 s). */
  close(): Promise<void>;
}

/**
 * Registers a control-plane process in the discovery catalog with a TTL check it keeps passing,
 * so `fleetctl services ls` shows the platform itself. Works whether discovery is up yet or not:
 * it retries, and registers again if the instance was reaped or the catalog was reset. Needs
 * only a connected `MessageBus`; call it after the service started and `close()` before draining.
 */
export function registerPlatformService(bus: MessageBus, options: PlatformServiceOptions): PlatformRegistration {
  const ttlMs = options.ttlMs ?? 15_000;
  const id = options.id ?? `${options.name}@${hostname().replace(/[^A-Za-z0-9_.:-]/g, '-')}-${process.pid}`;
  const registration: RegisterInstance = {
    id,
    name: options.name,
    address: options.address ?? process.env.FLEET_ADVERTISE_ADDRESS ?? '127.0.0.1',
    port: options.port ?? 0,
    tags: options.tags ?? ['fleetcore'],
    meta: { version: process.env.npm_package_version ?? 'dev', ...options.meta },
    source: 'platform',
    checks: [
      {
        type: 'ttl',
        id: 'alive',
        name: 'process alive',
        ttl: `${ttlMs}ms`,
        deregisterCriticalAfter: `${options.deregisterCriticalAfterMs ?? 120_000}ms`,
      },
    ],
  };
  const pass: TtlUpdate = { instanceId: id, checkId: 'alive', status: 'passing', output: 'process alive' };
  const subject = (verb: string) => bus.subjects.svc(DISCOVERY, verb);
  let registered = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    try {
      if (!registered) {
        await bus.request(subject(discoveryVerbs.register), registration, 5000);
        registered = true;
      }
      await bus.request(subject(discoveryVerbs.ttl), pass, 5000);
    } catch (err) {
      // Reaped or reset: register again next time. Unavailable: discovery is not up yet.
      if (err instanceof FleetError && err.code === 'not_found') registered = false;
    } finally {
      if (!stopped) {
        timer = setTimeout(() => void tick(), registered ? Math.max(250, Math.floor(ttlMs / 3)) : 2000);
        timer.unref();
      }
    }
  };
  void tick();

  return {
    id,
    async close() {
      stopped = true;
      clearTimeout(timer);
      if (bus.nc.isClosed()) return;
      await bus.request(subject(discoveryVerbs.deregister), { id }, 2000).catch(() => undefined);
    },
  };
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ensureDatabase } from '#lib/persistence';
import { ensureLocalInfra } from './local-infra.js';
import { SERVICES, migrateService, serviceModuleUrl } from './services.js';
import { Supervised } from './supervisor.js';

export interface UpOptions {
  stateDir: string;
  demoNodes: number;
  only?: string[];
}

let stopped = false;

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const shutdown = () => {
      stopped = true;
      resolve();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopped) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** The admin token for a local platform lives in .fleetcore/, so fleetctl can be pointed at it. */
function localAdminToken(stateDir: string): string {
  if (process.env.FLEET_ADMIN_TOKEN) return process.env.FLEET_ADMIN_TOKEN;
  const file = join(stateDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `fct_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/**
 * `fleetcore up`: the whole platform on one machine, each service in its own process, as
 * docker compose would run it, under a supervisor that restarts what dies.
 */
export async function up(options: UpOptions): Promise<void> {
  const infra = await ensureLocalInfra(options.stateDir);
  for (const note of infra.notes) console.log(`[fleetcore] ${note}`);
  await ensureDatabase(infra.databaseUrl);

  const available = SERVICES.filter((s) => existsSync(fileURLToPath(serviceModuleUrl(s))));
  const chosen = options.only ? available.filter((s) => options.only!.includes(s.name)) : available;
  // Migrate once up front, in order, so the services' own start-up migrations are no-ops.
  for (const service of chosen) {
    await migrateService(service, infra.databaseUrl);
  }

  const token = localAdminToken(options.stateDir);
  const otel = fileURLToPath(new URL('../../../libs/telemetry/src/otel.js', import.meta.url));
  const backends = chosen.filter((s) => s.name !== 'gateway').map((s) => s.name);
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: infra.natsUrl,
    DATABASE_URL: infra.databaseUrl,
    FLEET_ADMIN_TOKEN: token,
    READY_SERVICES: process.env.READY_SERVICES ?? backends.join(','),
  };
  const pretty = process.stdout.isTTY === true;
  const started = Date.now();
  const metricsPorts = backendMetricsPorts(process.env.METRICS_PORT, backends);
  const processes: Supervised[] = chosen.map(
    (s) =>
      new Supervised(
        s.name,
        process.execPath,
        ['--import', otel, fileURLToPath(serviceModuleUrl(s))],
        { ...baseEnv, OTEL_SERVICE_NAME: `fleetcore-${s.name}`, ...(metricsPorts.has(s.name) ? { METRICS_PORT: String(metricsPorts.get(s.name)) } : {}) },
        pretty,
      ),
  );
  for (const p of processes) p.start();

  const port = process.env.PORT ?? '8080';
  console.log(
    [
      '',
      `[fleetcore] platform starting: ${chosen.map((s) => s.name).join(', ')}${options.demoNodes ? ` + ${options.demoNodes} simulated agents` : ''}`,
      `[fleetcore] gateway:  http://127.0.0.1:${port}  (API docs: http://127.0.0.1:${port}/api/docs)`,
      `[fleetcore] fleetctl: export FLEETCTL_SERVER=http://127.0.0.1:${port} FLEETCTL_TOKEN=$(cat ${join(options.stateDir, 'admin-token')})`,
      ...(metricsPorts.size ? [`[fleetcore] metrics:  ${[...metricsPorts].map(([name, p]) => `${name} :${p}`).join(', ')}`] : []),
      '',
    ].join('\n'),
  );
  const stop = waitForSignal();
  if (chosen.some((s) => s.name === 'gateway')) {
    const ready = await Promise.race([waitUntilReady(`http://127.0.0.1:${port}/readyz`, 120_000), stop.then(() => false)]);
    console.log(
      ready
        ? `[fleetcore] platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s`
        : '[fleetcore] platform not ready after 120 s; see the service logs above',
    );
  }

  // Demo agents start once the platform answers, so they register at once instead of backing off.
  if (options.demoNodes > 0 && !stopped) {
    const agentCli = fileURLToPath(new URL('../../agent/src/cli.js', import.meta.url));
    processes.push(
      new Supervised(
        'agents',
        process.execPath,
        [agentCli, 'simulate', '--nodes', String(options.demoNodes), '--nats-url', infra.natsUrl,
          '--subject-root', process.env.FLEET_SUBJECT_ROOT ?? 'fleet', '--data-dir', join(options.stateDir, 'demo-agents')],
        baseEnv,
        pretty,
      ),
    );
    processes[processes.length - 1].start();
  }

  await stop;
  console.log('[fleetcore] stopping');
  await Promise.all([...processes].reverse().map((p) => p.stop()));
  for (const child of infra.children.reverse()) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/**
 * Every backend serves `/metrics` and `/healthz` on METRICS_PORT; in one `fleetcore up` they
 * share a host, so from a base port each gets its own (base, base + 1, ... in service order).
 */
export function backendMetricsPorts(base: string | undefined, backends: readonly string[]): Map<string, number> {
  const first = Number(base ?? 0);
  if (!Number.isInteger(first) || first <= 0) return new Map();
  if (first + backends.length - 1 > 65_535) throw new Error(`METRICS_PORT ${first} leaves no room for ${backends.length} services`);
  return new Map(backends.map((name, i) => [name, first + i]));
}

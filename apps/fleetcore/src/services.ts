/**
 * The platform's backend services as the launcher knows them. Each app exports a start function
 * (parses env, migrates, serves until closed) and a migrate function, by convention.
 */
export interface RunningService {
  close(): Promise<void>;
}

export interface ServiceEntry {
  name: string;
  /** Module path under dist/, relative to this file once compiled. */
  module: string;
  start: string;
  migrate: string;
}

export const SERVICES: ServiceEntry[] = [
  { name: 'inventory', module: '../../inventory/src/main.js', start: 'startInventoryService', migrate: 'migrateInventoryDatabase' },
  { name: 'updater', module: '../../updater/src/main.js', start: 'startUpdaterService', migrate: 'migrateUpdaterDatabase' },
  { name: 'config', module: '../../config/src/main.js', start: 'startConfigService', migrate: 'migrateConfigDatabase' },
  { name: 'discovery', module: '../../discovery/src/main.js', start: 'startDiscoveryService', migrate: 'migrateDiscoveryDatabase' },
  { name: 'gateway', module: '../../gateway/src/main.js', start: 'startGatewayService', migrate: 'migrateGatewayDatabase' },
];

export function serviceEntry(name: string): ServiceEntry | undefined {
  return SERVICES.find((s) => s.name === name);
}

export function serviceModuleUrl(entry: ServiceEntry): URL {
  return new URL(entry.module, import.meta.url);
}

type ServiceModule = Record<string, unknown>;

export async function loadService(entry: ServiceEntry): Promise<ServiceModule> {
  return (await import(serviceModuleUrl(entry).href)) as ServiceModule;
}

export async function startService(entry: ServiceEntry, env: NodeJS.ProcessEnv): Promise<RunningService> {
  const mod = await loadService(entry);
  const start = mod[entry.start] as ((env: NodeJS.ProcessEnv) => Promise<RunningService>) | undefined;
  if (typeof start !== 'function') throw new Error(`${entry.name}: ${entry.start} is not exported`);
  return start(env);
}

export async function migrateService(entry: ServiceEntry, databaseUrl: string): Promise<void> {
  const mod = await loadService(entry);
  const migrate = mod[entry.migrate] as ((url: string) => Promise<unknown>) | undefined;
  if (typeof migrate !== 'function') throw new Error(`${entry.name}: ${entry.migrate} is not exported`);
  await migrate(databaseUrl);
}

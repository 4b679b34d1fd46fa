import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * `npm start` must work on a fresh machine: when NATS_URL / DATABASE_URL are unset and nothing
 * answers on the default local ports, the launcher starts private `nats-server -js` and
 * PostgreSQL instances from the binaries on PATH, with their data under `.fleetcore/`.
 */
/** Ports a private NATS / PostgreSQL would use; overridable so tests can run beside real ones. */
function localPorts(): { nats: number; pg: number } {
  return {
    nats: Number(process.env.FLEETCORE_NATS_PORT ?? 4222),
    pg: Number(process.env.FLEETCORE_PG_PORT ?? 5432),
  };
}

export interface LocalInfra {
  natsUrl: string;
  databaseUrl: string;
  children: ChildProcess[];
  notes: string[];
}

export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function waitForPort(port: number, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAnswers(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start listening on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
}

/** Finds a binary on PATH or, for PostgreSQL, in Debian's versioned directory. */
export function findBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  if (existsSync('/usr/lib/postgresql')) {
    for (const version of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${version}/bin`);
  }
  dirs.push('/usr/sbin');
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

class MissingBinary extends Error {}

function missing(binary: string, debianPackage: string): MissingBinary {
  return new MissingBinary(
    `${binary} was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install ${debianPackage}), ` +
      `or point the platform at running servers with NATS_URL / DATABASE_URL.`,
  );
}

async function ensureNats(stateDir: string, infra: LocalInfra): Promise<void> {
  const natsPort = localPorts().nats;
  if (process.env.NATS_URL) {
    infra.natsUrl = process.env.NATS_URL;
    return;
  }
  infra.natsUrl = `nats://127.0.0.1:${natsPort}`;
  if (await portAnswers(natsPort)) {
    infra.notes.push(`NATS: using the server already on 127.0.0.1:${natsPort}`);
    return;
  }
  const binary = findBinary('nats-server');
  if (!binary) throw missing('nats-server', 'nats-server');
  const dir = join(stateDir, 'nats');
  mkdirSync(dir, { recursive: true });
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', dir, '-l', join(stateDir, 'nats.log')], {
    stdio: 'ignore',
  });
  infra.children.push(child);
  await waitForPort(natsPort, 'nats-server');
  infra.notes.push(`NATS: started a private nats-server -js (data in ${dir})`);
}

/** PostgreSQL refuses to run as root; run it as the `postgres` user when we are root. */
function asPostgresUser(binary: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command: binary, args };
  return { command: 'runuser', args: ['-u', 'postgres', '--', binary, ...args] };
}

function postgresUid(): { uid: number; gid: number } | undefined {
  const res = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (res.status !== 0) return undefined;
  return { uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function ensurePostgres(stateDir: string, infra: LocalInfra): Promise<void> {
  const pgPort = localPorts().pg;
  if (process.env.DATABASE_URL) {
    infra.databaseUrl = process.env.DATABASE_URL;
    return;
  }
  infra.databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/fleetcore`;
  if (await portAnswers(pgPort)) {
    infra.notes.push(`PostgreSQL: using the server already on 127.0.0.1:${pgPort} (database "fleetcore")`);
    return;
  }
  const initdb = findBinary('initdb');
  const postgres = findBinary('postgres');
  if (!initdb || !postgres) throw missing('initdb/postgres', 'postgresql');
  const dataDir = resolve(stateDir, 'postgres');
  const socketDir = resolve(stateDir, 'postgres-socket');
  mkdirSync(socketDir, { recursive: true });
  const owner = process.getuid?.() === 0 ? postgresUid() : undefined;
  if (process.getuid?.() === 0 && !owner) throw new Error('running as root but there is no "postgres" user to run PostgreSQL as');
  if (owner) {
    // The postgres user must be able to reach its data directory through the state directory.
    chmodSync(stateDir, statSync(stateDir).mode | 0o011);
    const reach = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', resolve(stateDir)]);
    if (reach.status !== 0) {
      throw new Error(
        `PostgreSQL runs as the "postgres" user, which cannot reach ${resolve(stateDir)} (a parent folder is private). ` +
          'Use --state-dir under a folder it can enter, or set DATABASE_URL to a running server.',
      );
    }
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner) {
      chownSync(dataDir, owner.uid, owner.gid);
    }
    const init = asPostgresUser(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    const res = spawnSync(init.command, init.args, { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.stdout}`);
  }
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  const run = asPostgresUser(postgres, ['-D', dataDir, '-p', String(pgPort), '-c', 'listen_addresses=127.0.0.1', '-k', socketDir]);
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', () => undefined);
  infra.children.push(child);
  await waitForPort(pgPort, 'PostgreSQL');
  infra.notes.push(`PostgreSQL: started a private server (data in ${dataDir})`);
}

export async function ensureLocalInfra(stateDir: string): Promise<LocalInfra> {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, '.gitignore'), '*\n');
  const infra: LocalInfra = { natsUrl: '', databaseUrl: '', children: [], notes: [] };
  try {
    await ensureNats(stateDir, infra);
    await ensurePostgres(stateDir, infra);
  } catch (err) {
    for (const child of infra.children) child.kill('SIGTERM');
    throw err;
  }
  return infra;
}

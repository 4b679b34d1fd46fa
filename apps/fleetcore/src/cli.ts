import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ensureDatabase } from '#lib/persistence';
import { SERVICES, migrateService, serviceEntry, startService } from './services.js';
import { up } from './up.js';

const USAGE = `fleetcore — the Fleetcore control plane

Usage:
  fleetcore up [--demo N] [--only a,b] [--state-dir DIR]
                                  run the whole platform on this machine (each service its own process);
                                  starts private NATS/PostgreSQL when none answer and NATS_URL/DATABASE_URL are unset;
                                  --demo N also runs N simulated agents
  fleetcore <service>             run one service in this process: ${SERVICES.map((s) => s.name).join(', ')}
  fleetcore migrate [service…]    run database migrations (all services by default)
  fleetcore --help

Environment: NATS_URL, NATS_CREDENTIALS, DATABASE_URL, FLEET_SUBJECT_ROOT, LOG_LEVEL, PORT (gateway),
FLEET_ADMIN_TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT. See README.md.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      demo: { type: 'string' },
      only: { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'up') {
    const demo = values.demo === undefined ? 0 : Number(values.demo);
    if (!Number.isInteger(demo) || demo < 0) throw new Error(`--demo takes a whole number, not "${values.demo}"`);
    await up({
      stateDir: resolve(values['state-dir'] ?? '.fleetcore'),
      demoNodes: demo,
      only: values.only?.split(',').map((s) => s.trim()),
    });
    return 0;
  }
  if (command === 'migrate') {
    const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fleetcore';
    await ensureDatabase(url);
    const names = rest.length ? rest : SERVICES.map((s) => s.name);
    for (const name of names) {
      const entry = serviceEntry(name);
      if (!entry) throw new Error(`unknown service "${name}"`);
      await migrateService(entry, url);
      console.log(`migrated ${name}`);
    }
    return 0;
  }
  const entry = serviceEntry(command);
  if (!entry) {
    console.error(`fleetcore: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const running = await startService(entry, process.env);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await running.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`fleetcore: ${err.message}`);
    process.exit(1);
  },
);

import { readFileSync, realpathSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { AgentConfigError } from './config/agent-config.js';
import { AgentStopped, runAgent } from './run/run-agent.js';
import { reportProgress } from './simulator/progress.js';
import { startSimulator, type SimulatorOptions } from './simulator/simulator.js';
import { agentVersion } from './version.js';

const USAGE = `Usage:
  fleet-agent run [--config <file>]      run the agent on this machine
  fleet-agent simulate --nodes N [options]  run N virtual agents in this process
  fleet-agent --help | --version

run:
  --config, -c <file>     agent config, JSON or YAML (default /etc/fleet-agent/config.yaml)

simulate:
  --nodes, -n N           number of virtual nodes (required)
  --prefix P              node id prefix (default sim-): ids are P1..PN
  --nats-url URL          NATS server(s), comma-separated (default $NATS_URL or nats://127.0.0.1:4222)
  --nats-credentials F    NATS .creds file
  --subject-root R        subject root (default $FLEET_SUBJECT_ROOT or fleet)
  --groups K              spread nodes over K groups (default 4; 1 means "default")
  --channel C             update channel of every node (default stable)
  --heartbeat-interval S  seconds, until the inventory's hello reply says otherwise (default 10)
  --data-dir DIR          per-node state under DIR/<nodeId> (default $TMPDIR/fleet-agent-sim)
  --fail-rate F           share (0..1) of simulated operations that fail (default 0)
  --seed N                seed for simulated randomness (default 1)
  --os-version V          OS version the virtual nodes report (default 1.0.0)
  --connections N         NATS connections to share (default one per 5,000 nodes)
  --feature-config F      JSON or YAML file with feature sections (updates, config, discovery) for
                          every virtual node; config.managedRoots defaults to the platform's roots

See docs/agent.md for the config file reference.`;

/**
 * Virtual nodes keep config files in memory, so the config feature is on by default for them,
 * with the roots the config service allows by default; a --feature-config file overrides it.
 */
function simulatedFeatureConfig(file: string | undefined): Record<string, unknown> {
  const defaults: Record<string, unknown> = { config: { managedRoots: ['/etc', '/opt', '/srv', '/var/lib', '/usr/local/etc'] } };
  if (!file) return defaults;
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--feature-config ${file}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--feature-config ${file}: expected a map of feature sections`);
  }
  return { ...defaults, ...(parsed as Record<string, unknown>) };
}

/** Bad usage: printed with the usage hint, exit code 2. */
class UsageError extends Error {}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${agentVersion()}\n`);
    return 0;
  }
  try {
    if (command === 'run') return await run(rest);
    if (command === 'simulate') return await simulate(rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fleet-agent: ${(err as Error).message}\nRun "fleet-agent --help" for usage.\n`);
      return 2;
    }
    if (err instanceof AgentStopped) return 0;
    if (err instanceof AgentConfigError) {
      process.stderr.write(`fleet-agent: ${err.message}\n`);
      return 78; // EX_CONFIG: systemd should not restart into the same bad config
    }
    process.stderr.write(`fleet-agent: ${(err as Error).message}\n`);
    return 1;
  }
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const agent = await runAgent(values.config ?? '/etc/fleet-agent/config.yaml', { handleSignals: true });
  return agent.done;
}

async function simulate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: 'string', short: 'n' },
      prefix: { type: 'string' },
      'nats-url': { type: 'string' },
      'nats-credentials': { type: 'string' },
      'subject-root': { type: 'string' },
      groups: { type: 'string' },
      channel: { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'data-dir': { type: 'string' },
      'fail-rate': { type: 'string' },
      seed: { type: 'string' },
      'os-version': { type: 'string' },
      connections: { type: 'string' },
      'feature-config': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.nodes === undefined) throw new UsageError('simulate needs --nodes N');
  const options: SimulatorOptions = {
    nodes: integer('--nodes', values.nodes, 1, 1_000_000),
    prefix: values.prefix,
    natsUrl: values['nats-url'] ?? process.env.NATS_URL,
    natsCredentials: values['nats-credentials'] ?? process.env.NATS_CREDENTIALS,
    subjectRoot: values['subject-root'] ?? process.env.FLEET_SUBJECT_ROOT,
    groups: values.groups === undefined ? undefined : integer('--groups', values.groups, 1, 10_000),
    channel: values.channel,
    heartbeatIntervalSeconds: values['heartbeat-interval'] === undefined ? undefined : number('--heartbeat-interval', values['heartbeat-interval'], 0.1, 3600),
    dataDir: values['data-dir'],
    failRate: values['fail-rate'] === undefined ? undefined : number('--fail-rate', values['fail-rate'], 0, 1),
    seed: values.seed === undefined ? undefined : integer('--seed', values.seed, 0, 2 ** 32 - 1),
    os: values['os-version'] ? { name: 'Fleetcore Linux', version: values['os-version'] } : undefined,
    connections: values.connections === undefined ? undefined : integer('--connections', values.connections, 1, 64),
    featureConfig: simulatedFeatureConfig(values['feature-config']),
  };
  if (options.prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$/.test(options.prefix)) {
    throw new UsageError(`--prefix "${options.prefix}" must be letters, digits, _ or -, starting with a letter or digit`);
  }

  const started = Date.now();
  const sim = await startSimulator(options);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`simulating ${options.nodes} nodes (${sim.nodeIds[0]}..${sim.nodeIds[sim.nodeIds.length - 1]})`);

  const stopReporting = reportProgress(sim, started, say);

  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      stopReporting();
      say('stopping the simulator');
      void sim.stop().then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function number(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = number(flag, raw, min, max);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, got "${raw}"`);
  return n;
}

/** Run directly (`node dist/apps/agent/src/cli.js`) or through the `bin/fleet-agent.js` launcher. */
function invokedAsCli(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  let path = script;
  try {
    path = realpathSync(script);
  } catch {
    // keep the path as given
  }
  return import.meta.url === pathToFileURL(path).href || /^fleet-agent(\.js)?$/.test(basename(path));
}

if (invokedAsCli()) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`fleet-agent: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

import { mkdir } from 'node:fs/promises';
import { MessageBus } from '#lib/messaging';
import { Subjects } from '#contracts/common';
import { JsonLogger } from '#lib/telemetry';
import { loadAgentConfig, type AgentConfig } from '../config/agent-config.js';
import type { AgentFeatureFactory } from '../feature.js';
import { agentFeatures } from '../features/index.js';
import { collectHostFacts } from '../facts/host-facts.js';
import { AgentRuntime } from '../runtime/agent-runtime.js';
import { backoffDelay } from '../runtime/backoff.js';
import { HostStatus } from '../runtime/host-status.js';
import { Scheduler } from '../runtime/scheduler.js';
import { agentVersion } from '../version.js';

/**
 * Exit code of `AgentContext.restart()`: the agent drains and exits with it, and the systemd unit
 * (`Restart=always`, or `RestartForceExitStatus=75` with `Restart=on-failure`) starts it again.
 * Exiting beats re-exec'ing in place: the new process gets a clean environment, systemd sees
 * and logs the restart, and a restart loop is rate-limited by `StartLimitBurst`.
 */
export const RESTART_EXIT_CODE = 75;

/** Thrown by runAgent() when a signal arrives before NATS was ever reachable: exit quietly. */
export class AgentStopped extends Error {
  constructor() {
    super('stopped before NATS was reachable');
    this.name = 'AgentStopped';
  }
}

export interface RunningAgent {
  config: AgentConfig;
  runtime: AgentRuntime;
  /** Drains and resolves the exit code the process should end with. */
  shutdown(code?: number): Promise<number>;
  /** Resolves with the exit code once the agent has shut down (signal, restart, shutdown()). */
  done: Promise<number>;
}

export interface RunAgentOptions {
  features?: AgentFeatureFactory[];
  machineIdPath?: string;
  /** Install SIGTERM/SIGINT handlers (the CLI does; tests don't). */
  handleSignals?: boolean;
}

/** `fleet-agent run`: one real agent for this machine. */
export async function runAgent(configPath: string, options: RunAgentOptions = {}): Promise<RunningAgent> {
  const features = (options.features ?? agentFeatures).map((make) => make());
  const config = loadAgentConfig(configPath, { features, machineIdPath: options.machineIdPath });
  JsonLogger.setLevel(config.logLevel);
  const logger = new JsonLogger('fleet-agent', 'agent');
  try {
    await mkdir(config.dataDir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create dataDir ${config.dataDir}: ${(err as Error).message}`);
  }

  let stopping = false;
  let wake: (() => void) | undefined;
  let shutdown: (code?: number) => Promise<number> = async (code = 0) => {
    // A signal before NATS was reachable: stop retrying; runAgent() rejects with AgentStopped.
    stopping = true;
    wake?.();
    return code;
  };
  const signals = options.handleSignals ? installSignals(() => void shutdown(0)) : () => undefined;

  const host = await collectHostFacts({ hostname: config.hostname, os: config.os });
  let bus: MessageBus;
  try {
    bus = await connectForever(config, logger, () => stopping, (w) => (wake = w));
  } catch (err) {
    signals();
    throw err;
  }
  const scheduler = new Scheduler({ onError: (err) => logger.error('scheduled task failed', err as Error) });

  const runtime = new AgentRuntime({
    bus,
    scheduler,
    nodeId: config.nodeId,
    dataDir: config.dataDir,
    simulated: false,
    logger,
    identity: { group: config.group, channel: config.channel, labels: config.labels },
    host,
    agentVersion: agentVersion(),
    status: new HostStatus(config.dataDir),
    features: features.map((feature) => ({ feature, config: config.features.get(feature.name) })),
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
    onRestart: async (reason) => {
      logger.warn('restarting the agent', { reason, exitCode: RESTART_EXIT_CODE });
      void shutdown(RESTART_EXIT_CODE);
    },
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let shuttingDown: Promise<number> | undefined;
  shutdown = async (code = 0) => {
    shuttingDown ??= (async () => {
      logger.info('shutting down', { code });
      signals();
      await runtime.stop();
      scheduler.stop();
      await bus.drain().catch(() => undefined);
      resolveDone(code);
      return code;
    })();
    return shuttingDown;
  };

  void (async () => {
    for await (const status of bus.nc.status()) {
      if (status.type === 'reconnect') runtime.reconnected();
    }
  })().catch(() => undefined);

  logger.info('agent starting', { nodeId: config.nodeId, natsUrl: config.natsUrl, subjectRoot: config.subjectRoot, version: agentVersion() });
  runtime.start();
  return { config, runtime, shutdown: (code) => shutdown(code), done };
}

/** The first connection is retried forever too (the bus reconnects forever after that). */
async function connectForever(
  config: AgentConfig,
  logger: JsonLogger,
  stopping: () => boolean,
  setWake: (wake: () => void) => void,
): Promise<MessageBus> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await MessageBus.connect({
        url: config.natsUrl,
        credentials: config.natsCredentials,
        name: `fleet-agent:${config.nodeId}`,
        // Replies come back under the node's own subjects, so its credentials need no `_INBOX.>`.
        inboxPrefix: new Subjects(config.subjectRoot).nodeInbox(config.nodeId),
        subjectRoot: config.subjectRoot,
        service: 'agent',
        logger,
        firstConnectTimeoutMs: 5000,
      });
    } catch (err) {
      if (stopping()) throw new AgentStopped();
      const delay = backoffDelay(attempt);
      logger.warn('cannot reach NATS; retrying', { natsUrl: config.natsUrl, reason: (err as Error).message, retryInMs: delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        setWake(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (stopping()) throw new AgentStopped();
    }
  }
}

function installSignals(onSignal: () => void): () => void {
  const handler = () => onSignal();
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

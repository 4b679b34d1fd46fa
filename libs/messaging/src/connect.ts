import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectOptions {
  url: string;
  name: string;
  /** Path to a NATS `.creds` file (JWT + nkey seed). */
  credentials?: string;
  /** Give up on the first connection after this long; reconnection afterwards is forever. */
  firstConnectTimeoutMs?: number;
  /**
   * Skip capturing an Error (stack trace) per request for async traces. The agent simulator
   * sends tens of thousands of requests, where that capture dominated its CPU.
   */
  noAsyncTraces?: boolean;
}

/**
 * Connects with the settings every Fleetcore process wants: reconnect forever with jittered
 * backoff, a bounded outgoing buffer while disconnected, and a fixed client name for monitoring.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const authenticator = options.credentials
    ? credsAuthenticator(await readFile(options.credentials))
    : undefined;
  return connect({
    servers: options.url.split(',').map((s) => s.trim()),
    name: options.name,
    authenticator,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    timeout: options.firstConnectTimeoutMs ?? 10_000,
    pingInterval: 20_000,
    noAsyncTraces: options.noAsyncTraces,
  });
}

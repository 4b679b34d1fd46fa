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
  /**
   * Subject prefix of this connection's reply inboxes (default `_INBOX`). An agent uses one under
   * its own `<root>.node.<nodeId>.` tree, so its NATS user can be limited to subscribing there
   * instead of to every client's replies under `_INBOX.>`.
   */
  inboxPrefix?: string;
}

/**
 * Connects with the settings every Fleetcore process wants: reconnect forever with jittered
 * backoff, a bounded outgoing buffer while disconnected, and a fixed client name for monitoring.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const authenticator = options.credentials
    ? credsAuthenticator(await readFile(options.credentials))
    : undefined;
  const { servers, user, pass, token } = splitNatsUrls(options.url);
  return connect({
    servers,
    user,
    pass,
    token,
    name: options.name,
    authenticator,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    timeout: options.firstConnectTimeoutMs ?? 10_000,
    pingInterval: 20_000,
    noAsyncTraces: options.noAsyncTraces,
    inboxPrefix: options.inboxPrefix,
  });
}

/**
 * `nats://user:pass@host:4222` and `nats://token@host:4222` are the usual way to put credentials
 * in NATS_URL, but the v3 client ignores URL user info: take it out and pass it as options. The
 * first URL that carries credentials decides them for the whole list.
 */
export function splitNatsUrls(urls: string): { servers: string[]; user?: string; pass?: string; token?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  const servers = urls
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((server) => {
      const match = /^([a-z]+:\/\/)([^@/]*)@(.+)$/i.exec(server);
      if (!match) return server;
      const [, scheme, info, rest] = match;
      if (user === undefined && token === undefined) {
        const colon = info.indexOf(':');
        if (colon >= 0) {
          user = decodeURIComponent(info.slice(0, colon));
          pass = decodeURIComponent(info.slice(colon + 1));
        } else {
          token = decodeURIComponent(info);
        }
      }
      return `${scheme}${rest}`;
    });
  return { servers, user, pass, token };
}

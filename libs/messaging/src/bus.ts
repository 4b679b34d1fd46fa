import {
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type StreamConfig } from '@nats-io/jetstream';
import { z } from 'zod';
import { FleetError, Subjects, errorReply, okReply, parseOrThrow, replySchema } from '#contracts/common';
import type { EventEnvelope } from '#contracts/common';
import {
  JsonLogger,
  OncePerCause,
  counter,
  histogram,
  currentTraceCarrier,
  withRemoteSpan,
  type Carrier,
} from '#lib/telemetry';
import { decodeJson, encodeJson } from './codec.js';
import { connectNats, type NatsConnectOptions } from './connect.js';
import { randomUUID } from 'node:crypto';

export interface MessageContext {
  subject: string;
  headers?: MsgHdrs;
  /** The `<nodeId>` token of an agent subject, when the subscription is on one. */
  nodeId?: string;
}

interface HandlerOptions<S extends z.ZodType> {
  /** Name used in errors, logs and metrics: `inventory.hello`. */
  name: string;
  schema: S;
  /** Queue group; replicas in one group share the load. Defaults to the bus's service group. */
  queue?: string | false;
  /** Larger messages are rejected before parsing. */
  maxBytes?: number;
  /** Open a span per message (off on very hot paths such as heartbeats). */
  trace?: boolean;
  /**
   * Optional hot-path validator: returns the parsed value when the input is certainly valid, else
   * undefined and `schema` decides (with its error messages). Must never accept what `schema`
   * rejects; pair it with a spec that checks the two agree.
   */
  fastParse?: (input: unknown) => z.output<S> | undefined;
}

export interface ServeOptions<S extends z.ZodType> extends HandlerOptions<S> {
  handler: (input: z.output<S>, ctx: MessageContext) => unknown | Promise<unknown>;
}

export interface ConsumeOptions<S extends z.ZodType> extends HandlerOptions<S> {
  handler: (input: z.output<S>, ctx: MessageContext) => void | Promise<void>;
}

const DEFAULT_MAX_BYTES = 256 * 1024;

const handled = counter('fleet_nats_messages_total', 'NATS messages handled, by handler and result', [
  'handler',
  'result',
]);
const handleSeconds = histogram('fleet_nats_handler_seconds', 'Time spent handling one NATS request', [
  'handler',
]);

/**
 * The one NATS abstraction every Fleetcore process uses. It owns the connection and puts the
 * same discipline on every subscription: size limit, JSON and schema validation at the edge,
 * typed error replies, trace context from headers, metrics, and never an unhandled rejection.
 */
export class MessageBus {
  readonly js: JetStreamClient;
  private subscriptions: Subscription[] = [];
  /** Closed subscriptions are pruned when the list reaches this size (the simulator restarts nodes). */
  private pruneAt = 1024;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly problems: OncePerCause;

  private constructor(
    readonly nc: NatsConnection,
    readonly subjects: Subjects,
    readonly service: string,
    private readonly logger: JsonLogger,
  ) {
    this.js = jetstream(nc);
    this.problems = new OncePerCause(logger);
  }

  static async connect(
    options: NatsConnectOptions & { subjectRoot: string; service: string; logger?: JsonLogger },
  ): Promise<MessageBus> {
    const logger = options.logger ?? new JsonLogger(options.service, 'MessageBus');
    const nc = await connectNats(options);
    const bus = new MessageBus(nc, new Subjects(options.subjectRoot), options.service, logger);
    bus.watchStatus();
    return bus;
  }

  /** Wraps an existing connection (tests, the agent simulator sharing one connection). */
  static wrap(nc: NatsConnection, subjectRoot: string, service: string): MessageBus {
    return new MessageBus(nc, new Subjects(subjectRoot), service, new JsonLogger(service, 'MessageBus'));
  }

  /** Serves request/reply: every request gets `{ok,data}` or `{ok:false,error}`. */
  serve<S extends z.ZodType>(subject: string, options: ServeOptions<S>): Subscription {
    return this.subscribe(subject, options, async (msg, ctx) => {
      let reply;
      const stop = handleSeconds.startTimer({ handler: options.name });
      try {
        const input = this.decode(msg, options);
        reply = okReply((await options.handler(input, ctx)) ?? null);
        handled.inc({ handler: options.name, result: 'ok' });
      } catch (err) {
        const error = this.toFleetError(err, options.name);
        handled.inc({ handler: options.name, result: error.code });
        reply = errorReply(error);
      } finally {
        stop();
      }
      if (msg.reply) msg.respond(encodeJson(reply));
    });
  }

  /**
   * Answers `<root>.svc.<service>.ping` with who and how long up: the gateway's /readyz and
   * `fleetctl` use it to see which services are reachable.
   */
  servePing(version: string): Subscription {
    const started = Date.now();
    return this.serve(this.subjects.svc(this.service, 'ping'), {
      name: `${this.service}.ping`,
      schema: z.unknown(),
      trace: false,
      handler: () => ({ service: this.service, version, uptimeSeconds: Math.round((Date.now() - started) / 1000) }),
    });
  }

  /** Consumes published messages: bad ones are counted, logged once per cause and dropped. */
  consume<S extends z.ZodType>(subject: string, options: ConsumeOptions<S>): Subscription {
    const ok = handled.labels({ handler: options.name, result: 'ok' });
    const fail = (err: unknown) => {
      const error = this.toFleetError(err, options.name);
      handled.inc({ handler: options.name, result: error.code });
    };
    // A synchronous handler is run without promises or in-flight tracking: on very hot
    // subjects (heartbeats) that bookkeeping costs more than the handler itself.
    return this.subscribe(subject, options, (msg, ctx) => {
      try {
        const input = this.decode(msg, options);
        const result = options.handler(input, ctx);
        if (result instanceof Promise) return result.then(() => ok.inc(), fail);
        ok.inc();
      } catch (err) {
        fail(err);
      }
      return undefined;
    });
  }

  /** Sends a request and returns the reply's data, or throws the typed error it carried. */
  async request<T = unknown>(subject: string, body: unknown, timeoutMs = 5000): Promise<T> {
    const msg = await this.requestRaw(subject, body, timeoutMs);
    const decoded = decodeJson(msg.data);
    if (!decoded.ok) throw new FleetError('internal', `reply on ${subject} is not JSON`);
    const reply = replySchema.safeParse(decoded.value);
    if (!reply.success) throw new FleetError('internal', `reply on ${subject} is not a Fleetcore reply`);
    if (!reply.data.ok) throw FleetError.from(reply.data.error);
    return reply.data.data as T;
  }

  /**
   * Sends a request and returns the reply message unparsed (for relaying its bytes as they are);
   * no responders, a timeout or a failed request become the same typed errors as `request`'s.
   */
  async requestRaw(subject: string, body: unknown, timeoutMs = 5000): Promise<Msg> {
    try {
      return await this.nc.request(subject, encodeJson(body), { timeout: timeoutMs, headers: this.traceHeaders() });
    } catch (err) {
      const text = String((err as Error).message ?? err);
      if (/no responders/i.test(text) || (err as Error).name === 'NoRespondersError') {
        throw new FleetError('unavailable', `no service answers on ${subject}`);
      }
      if (/timeout/i.test(text)) throw new FleetError('timeout', `no reply on ${subject} within ${timeoutMs} ms`);
      throw new FleetError('unavailable', `request on ${subject} failed: ${text}`);
    }
  }

  publish(subject: string, body: unknown): void {
    this.nc.publish(subject, encodeJson(body), { headers: this.traceHeaders() });
  }

  /**
   * Publishes an event to JetStream. The event id is the message id, so a retried emit within
   * the stream's duplicate window is stored once.
   */
  async emit<T>(area: string, event: string, data: T, id: string = randomUUID()): Promise<EventEnvelope<T>> {
    const envelope: EventEnvelope<T> = {
      v: 1,
      id,
      type: `${area}.${event}`,
      time: new Date().toISOString(),
      source: this.service,
      data,
    };
    await this.js.publish(this.subjects.event(area, event), encodeJson(envelope), {
      msgID: id,
      headers: this.traceHeaders(),
    });
    return envelope;
  }

  /** Creates or updates a stream; safe to call from every replica at every start-up. */
  async ensureStream(config: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if (!/stream not found/i.test(String((err as Error).message))) throw err;
      try {
        await jsm.streams.add(config);
      } catch (addErr) {
        // Another replica created it between our info and add.
        if (!/already in use|already exists/i.test(String((addErr as Error).message))) throw addErr;
      }
    }
  }

  /** The platform's event stream: durable, replayable, deduplicated by event id. */
  async ensureEventStream(): Promise<void> {
    await this.ensureStream({
      name: this.subjects.eventsStream,
      subjects: [this.subjects.allEvents],
      max_age: 7 * 24 * 3600 * 1e9,
      max_bytes: 1024 * 1024 * 1024,
      duplicate_window: 120 * 1e9,
    });
  }

  /** Stops taking new messages, lets in-flight handlers finish, flushes and closes. */
  async drain(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  get isConnected(): boolean {
    return !this.nc.isClosed() && this.connected;
  }

  private connected = true;

  private watchStatus(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.connected = false;
        if (status.type === 'reconnect') this.connected = true;
        if (status.type === 'disconnect' || status.type === 'reconnect') {
          this.logger.warn(`nats ${status.type}`, { server: (status as { server?: string }).server });
        }
      }
    })().catch(() => undefined);
  }

  private subscribe<S extends z.ZodType>(
    subject: string,
    options: HandlerOptions<S>,
    onMessage: (msg: Msg, ctx: MessageContext) => Promise<void> | undefined,
  ): Subscription {
    const queue = options.queue === false ? undefined : (options.queue ?? this.subjects.queue(this.service));
    const agentIndex = subject.startsWith(`${this.subjects.root}.agent.`) ? this.subjects.agentIdIndex : -1;
    const sub = this.nc.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          this.logger.error(`subscription ${subject} failed`, err);
          return;
        }
        const ctx: MessageContext = {
          subject: msg.subject,
          headers: msg.headers,
          nodeId: agentIndex >= 0 ? msg.subject.split('.')[agentIndex] : undefined,
        };
        const run =
          options.trace === false
            ? onMessage(msg, ctx)
            : withRemoteSpan(options.name, carrierOf(msg.headers), { 'messaging.destination': msg.subject }, async () =>
                onMessage(msg, ctx),
              );
        if (run === undefined) return; // handled synchronously
        const tracked = run.catch((e) => this.logger.error(`handler ${options.name} threw`, e as Error));
        this.inFlight.add(tracked);
        void tracked.finally(() => this.inFlight.delete(tracked));
      },
    });
    this.subscriptions.push(sub);
    if (this.subscriptions.length >= this.pruneAt) {
      this.subscriptions = this.subscriptions.filter((s) => !s.isClosed());
      this.pruneAt = Math.max(1024, this.subscriptions.length * 2);
    }
    return sub;
  }

  private decode<S extends z.ZodType>(msg: Msg, options: HandlerOptions<S>): z.output<S> {
    const limit = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (msg.data.length > limit) {
      throw new FleetError('payload_too_large', `${options.name}: message of ${msg.data.length} bytes exceeds ${limit}`);
    }
    const decoded = decodeJson(msg.data);
    if (!decoded.ok) throw new FleetError('bad_request', `${options.name}: message is not JSON (${decoded.reason})`);
    const body = decoded.value as { v?: unknown } | null;
    if (body !== null && typeof body === 'object' && 'v' in body && typeof body.v === 'number' && body.v !== 1) {
      throw new FleetError('unsupported_version', `${options.name}: message version ${body.v} is not supported (1 is)`);
    }
    const fast = options.fastParse?.(decoded.value);
    if (fast !== undefined) return fast;
    return parseOrThrow(options.schema, decoded.value, `${options.name} message`);
  }

  private toFleetError(err: unknown, name: string): FleetError {
    if (err instanceof FleetError) {
      this.problems.warn(`${name}:${err.code}`, `${name}: rejected message`, { code: err.code, reason: err.message });
      return err;
    }
    this.logger.error(`${name}: handler failed`, err as Error);
    return new FleetError('internal', `${name} failed; see the service log`);
  }

  private traceHeaders(): MsgHdrs | undefined {
    const carrier = currentTraceCarrier();
    const keys = Object.keys(carrier);
    if (keys.length === 0) return undefined;
    const h = natsHeaders();
    for (const k of keys) h.set(k, carrier[k]);
    return h;
  }
}

function carrierOf(headers: MsgHdrs | undefined): Carrier {
  const carrier: Carrier = {};
  if (!headers) return carrier;
  for (const key of ['traceparent', 'tracestate']) {
    const value = headers.get(key);
    if (value) carrier[key] = value;
  }
  return carrier;
}

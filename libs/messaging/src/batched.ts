import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { z } from 'zod';
import { FleetError, nodeIdSchema } from '#contracts/common';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import type { MessageBus } from './bus.js';
import { decodeJson } from './codec.js';
import { ensureDurable } from './ensure-durable.js';

export interface BatchItem<T, Id extends string | undefined = string | undefined> {
  input: T;
  /** The node id from an agent subject (`<root>.agent.<id>.…`), else undefined. */
  nodeId: Id;
  subject: string;
}

export interface BatchedConsumerOptions<S extends z.ZodType, Agents extends boolean = false> {
  /** Durable consumer name; replicas of one service share it, so each message goes to one. */
  durable: string;
  stream: string;
  filterSubject: string;
  schema: S;
  name: string;
  maxBatch: number;
  flushMs: number;
  /**
   * Batches handled at once (default 1: strictly in stream order). More only where the handler
   * is order-independent, e.g. it keeps the newest report per node by its timestamp.
   */
  concurrency?: number;
  /**
   * Redeliver after this long without an ack (default 30 s): how long a message pulled by a
   * replica that died waits for another. A batch held longer is kept alive with in-progress acks.
   */
  ackWaitMs?: number;
  /** Only deliver messages published from now on (events), instead of the whole stream. */
  deliverNew?: boolean;
  /** Agent messages: a subject without a valid node id is malformed, and every item has one. */
  requireNodeId?: Agents;
  /**
   * What a FleetError from the handler means. `terminate` (default): bad but well-formed input,
   * dropped. `retry`: like any other error, for a handler that drops bad input itself, so that
   * whatever it throws is transient and a batch is never lost.
   */
  onFleetError?: 'terminate' | 'retry';
  handler: (items: Array<BatchItem<z.output<S>, Agents extends true ? string : string | undefined>>) => Promise<void>;
}

export interface BatchedConsumer {
  stop(): Promise<void>;
}

const consumed = counter('fleet_jetstream_batched_messages_total', 'JetStream messages consumed in batches, by consumer and result', ['consumer', 'result']);

type Parsed<T> = { ok: true; item: BatchItem<T> } | { ok: false; cause: string; reason: string };

interface Batch<T> {
  entries: Array<{ item: BatchItem<T>; m: JsMsg }>;
  keepAlive: NodeJS.Timeout;
}

/**
 * Like `consumeDurable`, but hands the handler batches (up to `maxBatch` messages or `flushMs`
 * old), so a batch costs one or two statements instead of one per message, and acknowledges a
 * batch only after its handler succeeded:
 * - a malformed message is terminated on arrival, counted and logged once per cause;
 * - a FleetError from the handler terminates the batch (bad but well-formed input), unless
 *   `onFleetError` is `retry`;
 * - any other error naks the batch for redelivery (the database was down, say).
 * The durable is created, or an existing one brought to the code's `ack_wait`, `max_deliver` and
 * `max_ack_pending` (`ensureDurable`). From its first message until acked (filling, waiting for a
 * slot, being handled) a batch is kept alive with in-progress acks every half `ack_wait`, so a
 * slow batch is not redelivered to another replica meanwhile. Messages still in the client's
 * buffer behind a stalled batch may be redelivered; handlers must tolerate repeats anyway.
 */
export async function consumeBatches<S extends z.ZodType, Agents extends boolean = false>(
  bus: MessageBus,
  options: BatchedConsumerOptions<S, Agents>,
): Promise<BatchedConsumer> {
  type T = z.output<S>;
  const logger = new JsonLogger(bus.service, `consumer:${options.durable}`);
  const problems = new OncePerCause(logger);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const jsm = await jetstreamManager(bus.nc);
  const outcome = await ensureDurable(jsm.consumers, options.stream, {
    durable_name: options.durable,
    filter_subject: options.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: options.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: ackWaitMs * 1e6,
    max_deliver: 20,
    // The running batches, the one filling, and the client's buffer of two.
    max_ack_pending: options.maxBatch * (concurrency + 3),
  });
  if (outcome === 'updated') logger.log('durable consumer settings updated', { durable: options.durable, ackWaitMs });
  const consumer = await bus.js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: options.maxBatch * 2 });
  const agentIndex = bus.subjects.agentIdIndex;
  const agentPrefix = `${bus.subjects.root}.agent.`;

  const parse = (m: JsMsg): Parsed<T> => {
    const token = m.subject.startsWith(agentPrefix) ? m.subject.split('.')[agentIndex] : undefined;
    const nodeId = options.requireNodeId ? nodeIdSchema.safeParse(token) : { success: true as const, data: token };
    if (!nodeId.success) return { ok: false, cause: 'node id', reason: `no valid node id in subject ${m.subject}` };
    const decoded = decodeJson(m.data);
    if (!decoded.ok) return { ok: false, cause: 'json', reason: 'message is not JSON' };
    const input = options.schema.safeParse(decoded.value);
    if (!input.success) {
      return { ok: false, cause: 'schema', reason: input.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
    }
    return { ok: true, item: { input: input.data, nodeId: nodeId.data, subject: m.subject } };
  };

  const handle = async (b: Batch<T>): Promise<void> => {
    const n = b.entries.length;
    try {
      // With `requireNodeId` every item has its node id (`parse` dropped the rest).
      await options.handler(b.entries.map((x) => x.item) as Parameters<typeof options.handler>[0]);
      for (const x of b.entries) x.m.ack();
      consumed.inc({ consumer: options.durable, result: 'ok' }, n);
    } catch (err) {
      if (err instanceof FleetError && options.onFleetError !== 'retry') {
        problems.warn(`${options.name}:${err.code}`, `${options.name}: dropped batch`, { reason: err.message });
        for (const x of b.entries) x.m.term();
        consumed.inc({ consumer: options.durable, result: err.code }, n);
      } else {
        logger.error(`${options.name}: batch of ${n} failed, will retry`, err as Error);
        for (const x of b.entries) x.m.nak(1000);
        consumed.inc({ consumer: options.durable, result: 'retry' }, n);
      }
    }
  };

  let open: Batch<T> | undefined; // the batch being filled
  let due = false; // `open` is `flushMs` old: start it as soon as a slot is free
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<void>>();

  /** Hands the open batch to the handler if it is full or due and fewer than `concurrency` run. */
  const startIfReady = (): void => {
    const b = open;
    if (!b || running.size >= concurrency || !(due || b.entries.length >= options.maxBatch)) return;
    open = undefined;
    due = false;
    clearTimeout(timer);
    timer = undefined;
    const run = handle(b)
      .catch((err) => logger.error(`${options.name}: could not settle a batch`, err as Error))
      .finally(() => {
        clearInterval(b.keepAlive);
        running.delete(run);
        startIfReady();
      });
    running.add(run);
  };

  const add = (entry: Batch<T>['entries'][number]): void => {
    if (!open) {
      const b: Batch<T> = {
        entries: [],
        keepAlive: setInterval(() => {
          try {
            for (const x of b.entries) x.m.working();
          } catch {
            // The connection is closing: the batch will be redelivered anyway.
          }
        }, ackWaitMs / 2),
      };
      open = b;
      timer = setTimeout(() => {
        due = true;
        startIfReady();
      }, options.flushMs);
    }
    open.entries.push(entry);
    startIfReady();
  };

  const loop = (async () => {
    for await (const m of messages) {
      const parsed = parse(m);
      if (!parsed.ok) {
        problems.warn(`${options.name}:${parsed.cause}`, `${options.name}: dropped malformed message`, { subject: m.subject, reason: parsed.reason });
        m.term();
        consumed.inc({ consumer: options.durable, result: 'malformed' });
        continue;
      }
      add({ item: parsed.item, m });
      // Back-pressure: a full batch waits for a free slot before more messages are taken.
      while (open && open.entries.length >= options.maxBatch) await Promise.race(running);
    }
  })();

  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
      due = true;
      startIfReady();
      while (running.size) await Promise.race(running);
    },
  };
}

import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { z } from 'zod';
import { FleetError, parseOrThrow } from '#contracts/common';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import type { MessageBus } from './bus.js';
import { decodeJson } from './codec.js';

export interface BatchItem<T> {
  input: T;
  /** The node id from an agent subject (`<root>.agent.<id>.…`), else undefined. */
  nodeId?: string;
  subject: string;
}

export interface BatchedConsumerOptions<S extends z.ZodType> {
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
  /** Redeliver after this long without an ack (the process died mid-batch). */
  ackWaitMs?: number;
  /** Only deliver messages published from now on (events), instead of the whole stream. */
  deliverNew?: boolean;
  handler: (items: Array<BatchItem<z.output<S>>>) => Promise<void>;
}

export interface BatchedConsumer {
  stop(): Promise<void>;
}

const consumed = counter('fleet_jetstream_batched_messages_total', 'JetStream messages consumed in batches, by consumer and result', ['consumer', 'result']);

/**
 * Like `consumeDurable`, but hands the handler batches (up to `maxBatch` messages or `flushMs`
 * old), so a batch costs one or two statements instead of one per message, and acknowledges a
 * batch only after its handler succeeded:
 * - a malformed message is terminated on arrival, counted and logged once per cause;
 * - a FleetError from the handler terminates the batch (bad but well-formed input);
 * - any other error naks the batch for redelivery (the database was down, say).
 */
export async function consumeBatches<S extends z.ZodType>(bus: MessageBus, options: BatchedConsumerOptions<S>): Promise<BatchedConsumer> {
  const logger = new JsonLogger(bus.service, `consumer:${options.durable}`);
  const problems = new OncePerCause(logger);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const jsm = await jetstreamManager(bus.nc);
  const config = {
    durable_name: options.durable,
    filter_subject: options.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: options.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: (options.ackWaitMs ?? 30_000) * 1e6,
    max_deliver: 20,
    max_ack_pending: options.maxBatch * (concurrency + 3),
  };
  try {
    await jsm.consumers.add(options.stream, config);
  } catch (err) {
    if (!/already (exists|in use)/i.test(String((err as Error).message))) throw err;
    // Settings that may change between versions follow the code (the policies cannot).
    await jsm.consumers.update(options.stream, options.durable, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  }
  const consumer = await bus.js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: options.maxBatch * 2 });
  const agentIndex = bus.subjects.agentIdIndex;
  const agentPrefix = `${bus.subjects.root}.agent.`;
  let batch: Array<{ item: BatchItem<z.output<S>>; m: JsMsg }> = [];
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<void>>();

  const handle = async (b: typeof batch): Promise<void> => {
    try {
      await options.handler(b.map((x) => x.item));
      for (const x of b) x.m.ack();
      consumed.inc({ consumer: options.durable, result: 'ok' }, b.length);
    } catch (err) {
      if (err instanceof FleetError) {
        problems.warn(`${options.name}:${err.code}`, `${options.name}: dropped batch`, { reason: err.message });
        for (const x of b) x.m.term();
        consumed.inc({ consumer: options.durable, result: err.code }, b.length);
      } else {
        logger.error(`${options.name}: batch failed, will retry`, err as Error);
        for (const x of b) x.m.nak(1000);
        consumed.inc({ consumer: options.durable, result: 'retry' }, b.length);
      }
    }
  };
  /** Starts the pending batch; resolves once fewer than `concurrency` batches are running. */
  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const b = batch;
    batch = [];
    if (b.length) {
      const run = handle(b).finally(() => running.delete(run));
      running.add(run);
    }
    while (running.size >= concurrency) await Promise.race(running);
  };

  const loop = (async () => {
    for await (const m of messages) {
      try {
        const decoded = decodeJson(m.data);
        if (!decoded.ok) throw new FleetError('bad_request', `${options.name}: message is not JSON`);
        const input = parseOrThrow(options.schema, decoded.value, `${options.name} message`);
        const nodeId = m.subject.startsWith(agentPrefix) ? m.subject.split('.')[agentIndex] : undefined;
        batch.push({ item: { input, nodeId, subject: m.subject }, m });
      } catch (err) {
        problems.warn(`${options.name}:parse`, `${options.name}: dropped malformed message`, { reason: (err as Error).message });
        m.term();
        consumed.inc({ consumer: options.durable, result: 'malformed' });
        continue;
      }
      if (batch.length >= options.maxBatch) await flush();
      else timer ??= setTimeout(() => void flush(), options.flushMs);
    }
  })();

  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
      await flush();
      await Promise.all(running);
    },
  };
}

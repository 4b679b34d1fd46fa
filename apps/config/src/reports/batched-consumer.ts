import { AckPolicy, DeliverPolicy, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { z } from 'zod';
import { FleetError, parseOrThrow } from '#contracts/common';
import { decodeJson, type MessageBus } from '#lib/messaging';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';

export interface BatchItem<T> {
  input: T;
  nodeId?: string;
  subject: string;
}

export interface BatchedConsumerOptions<S extends z.ZodType> {
  durable: string;
  stream: string;
  filterSubject: string;
  schema: S;
  name: string;
  maxBatch: number;
  flushMs: number;
  /** Only deliver messages published from now on (events), instead of the whole stream. */
  deliverNew?: boolean;
  handler: (items: Array<BatchItem<z.output<S>>>) => Promise<void>;
}

const consumed = counter('fleet_config_consumed_total', 'JetStream messages consumed by the config service, by consumer and result', ['consumer', 'result']);

/**
 * Like `consumeDurable`, but hands the handler batches (up to `maxBatch` messages or `flushMs`
 * old) so that each batch is one database statement, and acknowledges a batch only after its
 * handler succeeded. Malformed messages are terminated one by one; a FleetError from the handler
 * terminates the batch, any other error naks it for redelivery.
 */
export async function consumeBatches<S extends z.ZodType>(bus: MessageBus, options: BatchedConsumerOptions<S>): Promise<{ stop(): Promise<void> }> {
  const logger = new JsonLogger('config', `consumer:${options.durable}`);
  const problems = new OncePerCause(logger);
  const jsm = await jetstreamManager(bus.nc);
  try {
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      filter_subject: options.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
      ack_wait: 30_000 * 1e6,
      max_deliver: 20,
      max_ack_pending: options.maxBatch * 4,
    });
  } catch (err) {
    if (!/already (exists|in use)/i.test(String((err as Error).message))) throw err;
  }
  const consumer = await bus.js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: options.maxBatch * 2 });
  const agentIndex = bus.subjects.agentIdIndex;
  let batch: Array<{ item: BatchItem<z.output<S>>; m: JsMsg }> = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const handle = async (b: typeof batch): Promise<void> => {
    if (b.length === 0) return;
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
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const b = batch;
    batch = [];
    flushing = flushing.then(() => handle(b));
    return flushing;
  };

  const loop = (async () => {
    for await (const m of messages) {
      try {
        const decoded = decodeJson(m.data);
        if (!decoded.ok) throw new FleetError('bad_request', `${options.name}: message is not JSON`);
        const input = parseOrThrow(options.schema, decoded.value, `${options.name} message`);
        const nodeId = m.subject.startsWith(`${bus.subjects.root}.agent.`) ? m.subject.split('.')[agentIndex] : undefined;
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
    },
  };
}

import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { z } from 'zod';
import { FleetError, parseOrThrow } from '#contracts/common';
import { JsonLogger, OncePerCause, counter } from '#lib/telemetry';
import type { MessageBus } from './bus.js';
import { decodeJson } from './codec.js';
import { ensureDurable } from './ensure-durable.js';

export interface DurableConsumerOptions<S extends z.ZodType> {
  /** Durable consumer name; replicas of one service share it, so each message goes to one. */
  durable: string;
  stream: string;
  filterSubject: string;
  schema: S;
  name: string;
  /** Redeliver after this long without an ack (the handler crashed or hung). */
  ackWaitMs?: number;
  maxDeliver?: number;
  handler: (input: z.output<S>, meta: { subject: string; nodeId?: string; seq: number }) => Promise<void>;
}

const consumed = counter('fleet_jetstream_messages_total', 'JetStream messages consumed, by consumer and result', [
  'consumer',
  'result',
]);

export interface DurableConsumer {
  stop(): Promise<void>;
}

/**
 * Consumes a JetStream subject with a durable, explicitly acknowledged consumer:
 * - a malformed message is terminated (never redelivered), counted and logged once per cause;
 * - a handler FleetError (a bad but well-formed message) is terminated the same way;
 * - any other handler error is nak'ed with a delay and retried (the database was down, say).
 */
export async function consumeDurable<S extends z.ZodType>(
  bus: MessageBus,
  options: DurableConsumerOptions<S>,
): Promise<DurableConsumer> {
  const logger = new JsonLogger(bus.service, `consumer:${options.durable}`);
  const problems = new OncePerCause(logger);
  const jsm = await jetstreamManager(bus.nc);
  // An existing durable is brought to the code's ack_wait and max_deliver.
  await ensureDurable(jsm.consumers, options.stream, {
    durable_name: options.durable,
    filter_subject: options.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (options.ackWaitMs ?? 30_000) * 1e6,
    max_deliver: options.maxDeliver ?? 20,
  });
  const consumer = await bus.js.consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
  const agentIndex = bus.subjects.agentIdIndex;

  const loop = (async () => {
    for await (const m of messages) {
      const nodeId = m.subject.startsWith(`${bus.subjects.root}.agent.`) ? m.subject.split('.')[agentIndex] : undefined;
      try {
        const decoded = decodeJson(m.data);
        if (!decoded.ok) throw new FleetError('bad_request', `${options.name}: message is not JSON`);
        const input = parseOrThrow(options.schema, decoded.value, `${options.name} message`);
        await options.handler(input, { subject: m.subject, nodeId, seq: m.seq });
        m.ack();
        consumed.inc({ consumer: options.durable, result: 'ok' });
      } catch (err) {
        if (err instanceof FleetError) {
          problems.warn(`${options.name}:${err.code}`, `${options.name}: dropped message`, { reason: err.message });
          m.term();
          consumed.inc({ consumer: options.durable, result: err.code });
        } else {
          logger.error(`${options.name}: handler failed, will retry`, err as Error);
          m.nak(1000);
          consumed.inc({ consumer: options.durable, result: 'retry' });
        }
      }
    }
  })();

  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await loop.catch(() => undefined);
    },
  };
}

/** The stream of agent reports, `<root>.agent.*.report.>`, deduplicated by message id. */
export async function ensureReportStream(bus: MessageBus): Promise<void> {
  await bus.ensureStream({
    name: bus.subjects.reportsStream,
    subjects: [bus.subjects.allAgentReports],
    max_age: 3 * 24 * 3600 * 1e9,
    max_bytes: 1024 * 1024 * 1024,
    duplicate_window: 300 * 1e9,
  });
}

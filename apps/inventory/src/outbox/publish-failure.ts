import { JetStreamApiError } from '@nats-io/jetstream';
import { InvalidArgumentError, InvalidSubjectError } from '@nats-io/transport-node';

/**
 * Why a JetStream publish of one outbox row failed, as far as the relay cares:
 * - `transient`: the environment is at fault (no connection, timeout, JetStream or the stream
 *   missing, offline, full, overloaded). Every row would fail alike, and the same row will go
 *   through once it recovers, however long that takes: retry with backoff, never drop.
 * - `permanent`: this message itself can never be stored (too large for the server or the stream,
 *   an invalid subject). Retrying it forever would block every event behind it.
 *
 * Anything not recognised as permanent is transient: dead-lettering a good event because of an
 * unknown outage is worse than a relay that waits and says so in its logs.
 */
export type PublishFailureKind = 'transient' | 'permanent';

export interface PublishFailure {
  kind: PublishFailureKind;
  /** Short, stable description for logs and the dead-letter row. */
  reason: string;
}

/**
 * JetStream API error codes (`err_code`, nats-server `errors.json`) a publish gets for the
 * message it sent, not for the state of the server: the same bytes get the same answer.
 */
const PERMANENT_API_CODES: ReadonlyMap<number, string> = new Map([
  [10054, 'message exceeds the stream max_msg_size'],
  [10097, 'headers exceed the 64 KiB maximum'],
  [10165, 'invalid per-message TTL'],
  [10166, 'per-message TTL disabled on the stream'],
  [10060, 'expected stream does not match'],
  [10070, 'wrong last message id'],
  [10071, 'wrong last sequence'],
  [10164, 'wrong last sequence'],
]);

export function classifyPublishFailure(err: unknown): PublishFailure {
  if (err instanceof JetStreamApiError) {
    const permanent = PERMANENT_API_CODES.get(err.code);
    if (permanent) return { kind: 'permanent', reason: `${permanent} (JetStream ${err.code}: ${err.message})` };
    return { kind: 'transient', reason: `JetStream ${err.code}: ${err.message}` };
  }
  // The client refuses, before sending, a message larger than the server's max_payload.
  if (err instanceof InvalidArgumentError && err.message.includes('max_payload')) {
    return { kind: 'permanent', reason: `payload exceeds the server max_payload (${err.message})` };
  }
  if (err instanceof InvalidSubjectError) return { kind: 'permanent', reason: err.message };
  // No responders on the subject (no stream listens: deleted, not created yet), timeouts,
  // closed or draining connections, JetStream disabled: all outlive no row.
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: 'transient', reason: message };
}

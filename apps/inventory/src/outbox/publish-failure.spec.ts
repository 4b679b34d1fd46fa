import { describe, expect, it } from 'vitest';
import { JetStreamApiError } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { classifyPublishFailure } from './publish-failure.js';

/** The error a publish gets back when the stream answers with `{error: {code, err_code}}`. */
const apiError = (status: number, errCode: number, description: string) =>
  new JetStreamApiError({ code: status, err_code: errCode, description });

describe('classifyPublishFailure', () => {
  it.each([
    ['a message over the server max_payload, refused by the client', InvalidArgumentError.format('payload', 'max_payload size exceeded')],
    ['a message over the stream max_msg_size', apiError(400, 10054, 'message size exceeds maximum allowed')],
    ['headers over 64 KiB', apiError(400, 10097, 'header size exceeds maximum allowed of 64k')],
    ['an invalid subject', new InvalidSubjectError('inventory.node registered')],
    ['a failed publish expectation', apiError(400, 10071, 'wrong last sequence: 7')],
  ])('calls %s permanent', (_, err) => {
    expect(classifyPublishFailure(err).kind).toBe('permanent');
  });

  it.each([
    ['no responders (the stream is deleted)', new jserrors.JetStreamNotEnabled('jetstream is not enabled', { cause: new RequestError('no responders', { cause: new NoRespondersError('t.events.x') }) })],
    ['a bare no-responders request error', new RequestError('no responders', { cause: new NoRespondersError('t.events.x') })],
    ['a timeout', new TimeoutError()],
    ['a closed connection', new ClosedConnectionError()],
    ['a draining connection', new DrainingConnectionError()],
    ['the stream not found', new jserrors.StreamNotFoundError({ code: 404, err_code: 10059, description: 'stream not found' })],
    ['JetStream temporarily unavailable', apiError(503, 10008, 'JetStream system temporarily unavailable')],
    ['a store failure (stream full with discard new)', apiError(503, 10077, 'maximum messages exceeded')],
    ['insufficient storage', apiError(500, 10047, 'insufficient storage resources available')],
    ['a sealed stream (every event would fail alike)', apiError(400, 10109, 'invalid operation on sealed stream')],
    ['too many requests', apiError(429, 10167, 'too many requests')],
    ['another invalid argument (configuration, not the message)', InvalidArgumentError.format('timeout', 'must be greater than 0')],
    ['an unknown error', new Error('something else')],
    ['a thrown non-error', 'boom'],
  ])('calls %s transient', (_, err) => {
    expect(classifyPublishFailure(err).kind).toBe('transient');
  });

  it('gives a reason naming the JetStream code, for the log and the dead-letter row', () => {
    expect(classifyPublishFailure(apiError(400, 10054, 'message size exceeds maximum allowed')).reason).toBe(
      'message exceeds the stream max_msg_size (JetStream 10054: message size exceeds maximum allowed)',
    );
    expect(classifyPublishFailure(InvalidArgumentError.format('payload', 'max_payload size exceeded')).reason).toContain('max_payload');
  });
});

import type { Response } from 'express';
import { FleetError } from '#contracts/common';
import type { MessageBus } from '#lib/messaging';

const OK_PREFIX = Buffer.from('{"ok":true,"data":');
const INDEX_AT_START = /^\{"index":(\d+)[,}]/;

/**
 * The hot read path of `/api/v1/services`: a service's reply (`{"ok":true,"data":…}`, as the bus
 * encodes it) is sent on as the HTTP body without being parsed and serialised again, which is
 * most of the gateway's cost for answers of tens of KiB. The index header is read from the first
 * bytes (`{"index":N,…`, the shape every discovery read returns). Anything else — an error reply,
 * an unexpected layout — takes the ordinary path: parsed, and errors thrown as FleetErrors.
 */
export async function relayRead(bus: MessageBus, subject: string, body: unknown, timeoutMs: number, res: Response, indexHeader: string): Promise<void> {
  const { data } = await bus.requestRaw(subject, body, timeoutMs);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length > OK_PREFIX.length + 1 && bytes.subarray(0, OK_PREFIX.length).equals(OK_PREFIX) && bytes[bytes.length - 1] === 0x7d) {
    const payload = bytes.subarray(OK_PREFIX.length, bytes.length - 1);
    const m = INDEX_AT_START.exec(payload.subarray(0, 40).toString('utf8'));
    if (m) {
      res.setHeader(indexHeader, m[1]);
      res.status(200).type('application/json').send(payload);
      return;
    }
  }
  let reply: { ok?: boolean; data?: { index?: number }; error?: { code: FleetError['code']; message: string; details?: unknown } };
  try {
    reply = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FleetError('internal', `reply on ${subject} is not JSON`);
  }
  if (reply.ok === false && reply.error) throw FleetError.from(reply.error);
  if (reply.ok !== true) throw new FleetError('internal', `reply on ${subject} is not a Fleetcore reply`);
  if (typeof reply.data?.index === 'number') res.setHeader(indexHeader, String(reply.data.index));
  res.status(200).json(reply.data);
}

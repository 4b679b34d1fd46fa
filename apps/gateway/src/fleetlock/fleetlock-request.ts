import type { Request } from 'express';
import { groupSchema } from '#contracts/common';
import { lockHolderIdSchema } from '#contracts/updater';
import { CompatError } from './compat-errors.js';

const MAX_BODY = 16 * 1024;

/**
 * The request body as JSON, whatever the Content-Type: Zincati sends none, `curl -d` sends a
 * form type. The gateway's JSON parser has already read bodies without a type (or JSON ones);
 * anything else is still in the stream and read here.
 */
export async function readCompatBody(req: Request): Promise<unknown> {
  if (req.body !== undefined || req.readableEnded) return req.body;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CompatError(400, 'invalid_client_params', `body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CompatError(400, 'invalid_client_params', 'body is not JSON');
  }
}

export interface ClientParams {
  id: string;
  group: string;
}

/** Checks the protocol header and `client_params`, with FleetLock's error kinds. */
export function parseClientParams(req: Request, body: unknown): ClientParams {
  const header = req.headers['fleet-lock-protocol'];
  if (typeof header !== 'string' || header.trim().toLowerCase() !== 'true') {
    throw new CompatError(400, 'missing_header', 'header "fleet-lock-protocol: true" is required');
  }
  const params = (body as { client_params?: unknown } | undefined)?.client_params as { id?: unknown; group?: unknown } | undefined;
  if (!params || typeof params !== 'object') {
    throw new CompatError(400, 'invalid_client_params', 'body must be {"client_params":{"id":"…","group":"…"}}');
  }
  const id = lockHolderIdSchema.safeParse(params.id);
  if (!id.success) throw new CompatError(400, 'invalid_client_params', 'client_params.id: a non-empty printable id is required');
  const group = groupSchema.safeParse(params.group);
  if (!group.success) {
    throw new CompatError(400, 'invalid_client_params', 'client_params.group: 1-63 of a-z 0-9 _ -, starting alphanumeric');
  }
  return { id: id.data, group: group.data };
}

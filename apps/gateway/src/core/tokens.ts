import type { Request } from 'express';
import type { Role } from '../auth/roles.js';

/** Injection tokens for what `startGatewayService` hands to the Nest app. */
export const GATEWAY_ENV = Symbol('GATEWAY_ENV');
export const GATEWAY_DB = Symbol('GATEWAY_DB');

/** Who made a request, once the auth guard has looked at its bearer token. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface GatewayRequest extends Request {
  requestId: string;
  principal?: Principal;
  startedAt: bigint;
}

/**
 * Typed errors shared by every service, the gateway and the agent. A caller always gets a
 * machine-readable `code` and a human `message`; HTTP status is derived from the code at the edge.
 */
export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unsupported_version',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'revision_conflict',
  'lock_unavailable',
  'outside_maintenance_window',
  'rate_limited',
  'unavailable',
  'timeout',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class FleetError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'FleetError';
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static from(body: ErrorBody): FleetError {
    return new FleetError(body.code, body.message, body.details);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'bad_request':
    case 'validation_failed':
    case 'unsupported_version':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'revision_conflict':
    case 'lock_unavailable':
    case 'outside_maintenance_window':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
    case 'timeout':
      return 504;
    case 'internal':
      return 500;
  }
}

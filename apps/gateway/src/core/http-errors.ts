import { HttpException } from '@nestjs/common';
import { FleetError, httpStatusOf, type ErrorBody, type ErrorCode } from '#contracts/common';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'bad_request',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'bad_request',
  429: 'rate_limited',
  503: 'unavailable',
  504: 'timeout',
};

/** Errors thrown by express's body parsers carry a `type` and a `status`. */
interface BodyParserError extends Error {
  type: string;
  status: number;
  limit?: number;
}

/**
 * Maps anything thrown while handling a request to the one error shape clients see:
 * `{ code, message, details? }` and its HTTP status. `expose` is false for errors whose message
 * must not reach the client (bugs), which the caller logs instead.
 */
export function toHttpError(err: unknown): { status: number; body: ErrorBody; expose: boolean } {
  const parserError = bodyParserError(err);
  if (parserError) return parserError;
  if (err instanceof FleetError) {
    return { status: httpStatusOf(err.code), body: err.toBody(), expose: err.code !== 'internal' };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad_request');
    const response = err.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    let message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : err.message;
    // The router's 404 says "Cannot GET /x"; say what it means.
    const unmatched = status === 404 && /^Cannot (\S+) (\S+)$/.exec(message);
    if (unmatched) message = `no route for ${unmatched[1]} ${unmatched[2]}`;
    return { status, body: { code, message }, expose: status < 500 };
  }
  return { status: 500, body: { code: 'internal', message: 'internal error; see the gateway log' }, expose: false };
}

/** Body-parser errors arrive raw or wrapped in an HttpException (as its cause). */
function bodyParserError(err: unknown): { status: number; body: ErrorBody; expose: boolean } | undefined {
  const candidates = [err, (err as { cause?: unknown } | null)?.cause];
  const bp = candidates.find(
    (c): c is BodyParserError =>
      !!c && typeof c === 'object' && typeof (c as BodyParserError).type === 'string' && typeof (c as BodyParserError).status === 'number',
  );
  if (bp) {
    if (bp.type === 'entity.too.large') {
      return {
        status: 413,
        body: { code: 'payload_too_large', message: `request body exceeds ${bp.limit ?? 'the limit of'} bytes` },
        expose: true,
      };
    }
    if (bp.type === 'entity.parse.failed') {
      return { status: 400, body: { code: 'bad_request', message: `malformed JSON body: ${bp.message}` }, expose: true };
    }
    if (bp.status < 500) {
      return { status: bp.status, body: { code: CODE_BY_STATUS[bp.status] ?? 'bad_request', message: bp.message }, expose: true };
    }
  }
  return undefined;
}

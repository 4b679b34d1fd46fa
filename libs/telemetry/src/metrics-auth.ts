import { createHash, timingSafeEqual } from 'node:crypto';

/** The challenge a 401 from any `/metrics` carries, so a scraper knows which credential to send. */
export const METRICS_AUTH_CHALLENGE = 'Bearer realm="metrics"';

/** The 401 body's message, the same on the gateway and on every backend's metrics port. */
export const METRICS_UNAUTHORIZED_MESSAGE = 'metrics need Authorization: Bearer <METRICS_TOKEN>';

/** Logged once at start by every process that serves `/metrics` while METRICS_TOKEN is unset. */
export const METRICS_TOKEN_UNSET_WARNING = 'METRICS_TOKEN is not set: /metrics is served without authentication';

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, trailing
 * blanks ignored), or undefined for anything else. Shared by the gateway's API tokens and the
 * metrics token so both read the header the same way.
 */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  return match?.[1];
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Whether an `Authorization` header carries the metrics token. Both sides are hashed first so
 * `timingSafeEqual` compares equal-length digests: the time taken reveals neither where the
 * first difference is nor the token's length.
 */
export function metricsTokenMatches(expected: string, authorization: string | undefined): boolean {
  const presented = bearerOf(authorization);
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

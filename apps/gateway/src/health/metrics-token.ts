import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerOf } from '../auth/auth.guard.js';

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

import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { FleetError } from '#contracts/common';
import { counter } from '#lib/telemetry';

export interface RateLimitOptions {
  /** Bucket name; routes sharing a name share each client's budget. */
  bucket: string;
  /** Burst size: requests a client may make at once. */
  capacity: number;
  /** Sustained rate: tokens added per second. */
  refillPerSecond: number;
}

export const RATE_LIMIT_KEY = 'fleet:rate-limit';

/**
 * Per-client-IP token bucket for the unauthenticated endpoints machines call (FleetLock,
 * Cincinnati, Ignition). Over budget → 429 `rate_limited` with `Retry-After`.
 *
 *   @Public() @RateLimit({ bucket: 'fleetlock', capacity: 20, refillPerSecond: 5 })
 *
 * The error is a FleetError, so an area with its own wire format for errors (FleetLock's
 * `{kind, value}`) maps it in its controller-scoped filter like any other.
 */
export const RateLimit = (options: RateLimitOptions) => SetMetadata(RATE_LIMIT_KEY, options);

const limited = counter('fleet_http_rate_limited_total', 'Requests refused by the per-IP rate limiter', ['bucket']);

interface Bucket {
  tokens: number;
  at: number;
}

/** The bucket arithmetic, separate from Nest so it can be tested with a fake clock. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: Pick<RateLimitOptions, 'capacity' | 'refillPerSecond'>,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, now = Date.now()): number {
    const { capacity, refillPerSecond } = this.options;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: capacity, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * refillPerSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerSecond));
  }

  /** Drops buckets that have refilled completely: they hold no state worth keeping. */
  sweep(now = Date.now()): void {
    const { capacity, refillPerSecond } = this.options;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * refillPerSecond >= capacity) this.buckets.delete(key);
    }
    // Still full of active clients: forget the oldest rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** Global guard; acts only on routes that carry `@RateLimit`. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly byBucket = new Map<string, TokenBuckets>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const options = this.reflector.getAllAndOverride<RateLimitOptions | undefined>(RATE_LIMIT_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!options || context.getType() !== 'http') return true;
    let buckets = this.byBucket.get(options.bucket);
    if (!buckets) {
      buckets = new TokenBuckets(options);
      this.byBucket.set(options.bucket, buckets);
    }
    const req = context.switchToHttp().getRequest<Request>();
    const wait = buckets.take(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (wait === 0) return true;
    limited.inc({ bucket: options.bucket });
    context.switchToHttp().getResponse<Response>().setHeader('retry-after', String(wait));
    throw new FleetError('rate_limited', `too many requests; retry in ${wait} s`);
  }
}

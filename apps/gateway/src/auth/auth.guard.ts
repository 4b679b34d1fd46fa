import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FleetError } from '#contracts/common';
import { bearerOf } from '#lib/telemetry';
import { TokensService } from '../tokens/tokens.service.js';
import type { GatewayRequest } from '../core/tokens.js';
import { PUBLIC_KEY, ROLE_KEY, roleAtLeast, type Role } from './roles.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Global guard: every route needs a valid bearer token unless marked `@Public()`, and the
 * token's role must reach the route's `@Roles(...)` (default: viewer to read, operator to change).
 * 401 when the token is missing or invalid, 403 when the role is too low.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokensService) private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<GatewayRequest>();
    const secret = bearerOf(req.headers.authorization);
    if (!secret) throw new FleetError('unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
    const principal = await this.tokens.authenticate(secret);
    if (!principal) throw new FleetError('unauthorized', 'invalid, expired or revoked token');
    req.principal = principal;
    const required =
      this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets) ??
      (SAFE_METHODS.has(req.method) ? 'viewer' : 'operator');
    if (!roleAtLeast(principal.role, required)) {
      throw new FleetError('forbidden', `this needs the ${required} role; token "${principal.name}" is ${principal.role}`);
    }
    return true;
  }
}

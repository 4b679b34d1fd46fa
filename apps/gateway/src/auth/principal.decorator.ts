import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { GatewayRequest, Principal } from '../core/tokens.js';

/** The authenticated caller of a (non-public) route. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal | undefined => ctx.switchToHttp().getRequest<GatewayRequest>().principal,
);

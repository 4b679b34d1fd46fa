import { Controller, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { UPDATER, lockReplySchema, releaseLockReplySchema, updaterVerbs } from '#contracts/updater';
import { Public } from '../auth/roles.js';
import { RateLimit } from '../core/rate-limit.js';
import { ServiceClient } from '../core/service-client.js';
import { CompatError, CompatExceptionFilter } from './compat-errors.js';
import { parseClientParams, readCompatBody } from './fleetlock-request.js';

/**
 * FleetLock, as Zincati speaks it (https://coreos.github.io/zincati/development/fleetlock/protocol/):
 * a recursive, owned counting semaphore per group. It is the same semaphore the agents use, so
 * Zincati machines and Fleetcore agents of one group share its reboot slots and windows.
 */
@ApiTags('compat')
@Public()
@RateLimit({ bucket: 'fleetlock', capacity: 30, refillPerSecond: 10 })
@UseFilters(CompatExceptionFilter)
@Controller('v1')
export class FleetLockController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Post('pre-reboot')
  @HttpCode(200)
  @ApiOperation({ summary: 'FleetLock RecursiveLock: take (or keep) a reboot slot of the group' })
  @ApiHeader({ name: 'fleet-lock-protocol', required: true, description: 'must be `true`' })
  @ApiBody({ schema: { example: { client_params: { id: 'e0f3745b108f471cbd4883c6fbed8cdd', group: 'default' } } } })
  @ApiResponse({ status: 200, description: 'the slot is held by this id' })
  @ApiResponse({ status: 400, description: '`missing_header`, `invalid_client_params`' })
  @ApiResponse({ status: 409, description: '`lock_unavailable`: every slot of the group is taken' })
  @ApiResponse({ status: 423, description: '`outside_maintenance_window`' })
  async preReboot(@Req() req: Request): Promise<Record<string, unknown>> {
    const params = parseClientParams(req, await readCompatBody(req));
    const reply = lockReplySchema.parse(await this.services.call(UPDATER, updaterVerbs.acquireLock, params));
    if (reply.granted) return { group: reply.group, id: reply.holder, expiresAt: reply.expiresAt };
    if (reply.reason === 'outside_maintenance_window') throw new CompatError(423, 'outside_maintenance_window', reply.message);
    throw new CompatError(409, 'lock_unavailable', reply.message);
  }

  @Post('steady-state')
  @HttpCode(200)
  @ApiOperation({ summary: 'FleetLock UnlockIfHeld: release the slot this id holds (no-op if none)' })
  @ApiHeader({ name: 'fleet-lock-protocol', required: true, description: 'must be `true`' })
  @ApiBody({ schema: { example: { client_params: { id: 'e0f3745b108f471cbd4883c6fbed8cdd', group: 'default' } } } })
  @ApiResponse({ status: 200, description: 'no slot is held by this id any more' })
  @ApiResponse({ status: 400, description: '`missing_header`, `invalid_client_params`' })
  async steadyState(@Req() req: Request): Promise<Record<string, unknown>> {
    const params = parseClientParams(req, await readCompatBody(req));
    const reply = releaseLockReplySchema.parse(await this.services.call(UPDATER, updaterVerbs.releaseLock, params));
    return { released: reply.released };
  }
}

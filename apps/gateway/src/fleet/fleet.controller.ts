import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { INVENTORY, fleetSummarySchema, inventoryVerbs, type FleetSummary } from '#contracts/inventory';
import { ServiceClient } from '../core/service-client.js';
import { ApiStandardErrors, ApiZodResponse } from '../core/zod.js';

@ApiTags('fleet')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/fleet')
export class FleetController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get('summary')
  @ApiOperation({ summary: 'Fleet summary: node counts by status, health, OS version, channel and group' })
  @ApiZodResponse(200, fleetSummarySchema, 'the summary')
  summary(): Promise<FleetSummary> {
    return this.services.call<FleetSummary>(INVENTORY, inventoryVerbs.summary, {});
  }
}

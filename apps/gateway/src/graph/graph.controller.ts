import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { UPDATER, graphRequestSchema, graphSchema, updaterVerbs, type UpdateGraph } from '#contracts/updater';
import { ServiceClient } from '../core/service-client.js';
import { ApiStandardErrors, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';

export const graphQuery = graphRequestSchema.extend({
  wariness: z.coerce.number().min(0).max(1).optional().describe('0 (eager) .. 1 (wary): hides edges whose ramp has not reached it'),
});

@ApiTags('releases')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/graph')
export class GraphController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get()
  @ApiOperation({ summary: 'The update graph of one channel and arch (Cincinnati rules: barriers, dead ends, ramps)' })
  @ApiZodQuery(graphQuery)
  @ApiZodResponse(200, graphSchema, 'nodes and edges; metadata values are strings')
  graph(@Query(new ZodPipe(graphQuery, 'query')) query: z.output<typeof graphQuery>): Promise<UpdateGraph> {
    return this.services.call<UpdateGraph>(UPDATER, updaterVerbs.graph, query);
  }
}

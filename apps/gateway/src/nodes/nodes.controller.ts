import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { nodeIdSchema } from '#contracts/common';
import { INVENTORY, inventoryVerbs, nodePageSchema, nodeViewSchema, type NodePage, type NodeView } from '#contracts/inventory';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import { checkedPatchNodeBody, listNodesQuery, patchNodeBody, toUpdateRequest, type PatchNodeBody } from './nodes.dto.js';

@ApiTags('nodes')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/nodes')
export class NodesController {
  constructor(@Inject(ServiceClient) private readonly services: ServiceClient) {}

  @Get()
  @ApiOperation({ summary: 'List nodes, filtered and paged (ordered by id)' })
  @ApiZodQuery(listNodesQuery)
  @ApiZodResponse(200, nodePageSchema, 'one page of nodes')
  list(@Query(new ZodPipe(listNodesQuery, 'query')) query: z.output<typeof listNodesQuery>): Promise<NodePage> {
    return this.services.call<NodePage>(INVENTORY, inventoryVerbs.list, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show one node' })
  @ApiIdParam('id', 'node id')
  @ApiZodResponse(200, nodeViewSchema, 'the node')
  @ApiZodResponse(404, null, 'no such node')
  get(@Param('id', new ZodPipe(nodeIdSchema, 'node id')) id: string): Promise<NodeView> {
    return this.services.call<NodeView>(INVENTORY, inventoryVerbs.get, { id });
  }

  @Patch(':id')
  @Roles('operator')
  @ApiOperation({ summary: "Change a node's labels (merge-patch; null removes) and/or group" })
  @ApiIdParam('id', 'node id')
  @ApiZodBody(patchNodeBody)
  @ApiZodResponse(200, nodeViewSchema, 'the node after the change')
  update(
    @Param('id', new ZodPipe(nodeIdSchema, 'node id')) id: string,
    @Body(new ZodPipe(checkedPatchNodeBody, 'node patch')) body: PatchNodeBody,
  ): Promise<NodeView> {
    return this.services.call<NodeView>(INVENTORY, inventoryVerbs.update, toUpdateRequest(id, body));
  }

  @Delete(':id')
  @Roles('operator')
  @HttpCode(204)
  @ApiOperation({ summary: 'Decommission a node: forget it (it registers again if its agent still runs)' })
  @ApiIdParam('id', 'node id')
  @ApiZodResponse(204, null, 'decommissioned')
  async remove(@Param('id', new ZodPipe(nodeIdSchema, 'node id')) id: string): Promise<void> {
    await this.services.call(INVENTORY, inventoryVerbs.decommission, { id });
  }
}

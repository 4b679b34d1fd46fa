import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { nodeIdSchema } from '#contracts/common';
import { INVENTORY, inventoryVerbs, nodePageSchema, nodeViewSchema, type NodePage, type NodeView } from '#contracts/inventory';
import { Roles } from '../auth/roles.js';
import { ServiceClient } from '../core/service-client.js';
import { ApiIdParam, ApiStandardErrors, ApiZodBody, ApiZodQuery, ApiZodResponse, ZodPipe } from '../core/zod.js';
import { DeadEndFlags, gatewayNodeSchema, type GatewayNode } from './dead-end-flags.js';
import { checkedPatchNodeBody, listNodesQuery, patchNodeBody, toUpdateRequest, type PatchNodeBody } from './nodes.dto.js';

const gatewayNodePageSchema = nodePageSchema.extend({ items: z.array(gatewayNodeSchema) });
type GatewayNodePage = z.output<typeof gatewayNodePageSchema>;

@ApiTags('nodes')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('api/v1/nodes')
export class NodesController {
  constructor(
    @Inject(ServiceClient) private readonly services: ServiceClient,
    @Inject(DeadEndFlags) private readonly deadEnds: DeadEndFlags,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List nodes, filtered and paged (ordered by id)' })
  @ApiZodQuery(listNodesQuery)
  @ApiZodResponse(200, gatewayNodePageSchema, 'one page of nodes')
  async list(@Query(new ZodPipe(listNodesQuery, 'query')) query: z.output<typeof listNodesQuery>): Promise<GatewayNodePage> {
    const page = await this.services.call<NodePage>(INVENTORY, inventoryVerbs.list, query);
    return { ...page, items: await this.deadEnds.flag(page.items) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Show one node' })
  @ApiIdParam('id', 'node id')
  @ApiZodResponse(200, gatewayNodeSchema, 'the node; deadEnd is set when its release is a dead end')
  @ApiZodResponse(404, null, 'no such node')
  async get(@Param('id', new ZodPipe(nodeIdSchema, 'node id')) id: string): Promise<GatewayNode> {
    const node = await this.services.call<NodeView>(INVENTORY, inventoryVerbs.get, { id });
    const [flagged] = await this.deadEnds.flag([node]);
    return flagged;
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

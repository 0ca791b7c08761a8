import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { AliasPage, AliasResponse, CreateAliasDto, ListAliasesQuery, UpdateAliasDto } from './alias.dto';
import { AliasesService } from './aliases.service';

@ApiTags('aliases')
@DomainScoped()
@Controller('v1/tenants/:tenantId/aliases')
export class AliasesController {
  constructor(private readonly aliases: AliasesService) {}

  @ApiOperation({ summary: 'List aliases' })
  @Get()
  @Authenticated({ scope: 'aliases:read' })
  @ApiOkResponse({ type: AliasPage })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Query() query: ListAliasesQuery,
  ) {
    return this.aliases.list(call, tenant, query);
  }

  @ApiOperation({ summary: 'Create an alias' })
  @Post()
  @Authenticated({ scope: 'aliases:write' })
  @ApiCreatedResponse({ type: AliasResponse, description: 'localPart * makes the domain’s catch-all' })
  @ApiConflictResponse({ description: 'The address is taken by an alias or a mailbox' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Body() dto: CreateAliasDto,
  ) {
    return this.aliases.create(call, tenant, dto);
  }

  @ApiOperation({ summary: 'Get an alias' })
  @Get(':aliasId')
  @Authenticated({ scope: 'aliases:read' })
  @ApiOkResponse({ type: AliasResponse })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('aliasId') aliasId: string,
  ) {
    return this.aliases.get(call, tenant, aliasId);
  }

  @ApiOperation({ summary: 'Update an alias' })
  @Patch(':aliasId')
  @Authenticated({ scope: 'aliases:write' })
  @ApiOkResponse({ type: AliasResponse })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('aliasId') aliasId: string,
    @Body() dto: UpdateAliasDto,
  ) {
    return this.aliases.update(call, tenant, aliasId, dto);
  }

  @ApiOperation({ summary: 'Delete an alias' })
  @Delete(':aliasId')
  @HttpCode(204)
  @Authenticated({ scope: 'aliases:write' })
  @ApiNoContentResponse({ description: 'Deleted; system aliases (postmaster, abuse) answer 409' })
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('aliasId') aliasId: string,
  ) {
    await this.aliases.remove(call, tenant, aliasId);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import {
  CreateTenantDto,
  ListTenantsQuery,
  SuspendTenantDto,
  TenantPage,
  TenantResponse,
  UpdateTenantDto,
} from './tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @ApiOperation({ summary: 'List tenants' })
  @Get()
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({
    type: TenantPage,
    description: 'Tenants this credential can see; with include=usage, each with its usage',
  })
  list(@Caller() call: CallContext, @Query() query: ListTenantsQuery) {
    return this.tenants.list(call, query);
  }

  @ApiOperation({ summary: 'Create a tenant' })
  @Post()
  @Authenticated({ scope: 'tenants:write', tenantManagers: true })
  @ApiCreatedResponse({ type: TenantResponse })
  @ApiConflictResponse({ description: 'The reseller’s maxTenants plan limit is reached' })
  create(@Caller() call: CallContext, @Body() dto: CreateTenantDto) {
    return this.tenants.create(call, dto);
  }

  @ApiOperation({ summary: 'Get a tenant' })
  @Get(':tenantId')
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: TenantResponse, description: 'The tenant with its current usage' })
  get(@CurrentTenant() tenant: Tenant, @Param('tenantId') _tenantId: string) {
    return this.tenants.get(tenant);
  }

  @ApiOperation({ summary: 'Update a tenant' })
  @Patch(':tenantId')
  @Authenticated({ scope: 'tenants:write' })
  @ApiOkResponse({ type: TenantResponse })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: UpdateTenantDto,
  ) {
    return this.tenants.update(call, tenant, dto);
  }

  @ApiOperation({ summary: 'Suspend a tenant' })
  @Post(':tenantId/suspend')
  @HttpCode(200)
  @Authenticated({ scope: 'tenants:write', tenantManagers: true, allowSuspended: true })
  @ApiOkResponse({ type: TenantResponse, description: 'Writes of the tenant now answer 423; reads still work' })
  suspend(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: SuspendTenantDto,
  ) {
    return this.tenants.setStatus(call, tenant, 'suspend', dto.reason);
  }

  @ApiOperation({ summary: 'Resume a suspended tenant' })
  @Post(':tenantId/resume')
  @HttpCode(200)
  @Authenticated({ scope: 'tenants:write', tenantManagers: true, allowSuspended: true })
  @ApiOkResponse({ type: TenantResponse })
  resume(@Caller() call: CallContext, @CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string) {
    return this.tenants.setStatus(call, tenant, 'resume');
  }

  @ApiOperation({ summary: 'Delete a tenant (restorable for a grace period)' })
  @Delete(':tenantId')
  @HttpCode(202)
  @Authenticated({ scope: 'tenants:write', tenantManagers: true, allowSuspended: true })
  @ApiAcceptedResponse({
    type: TenantResponse,
    description: 'Marked deleted; restorable until purgeAfter, then purged by the worker',
  })
  remove(@Caller() call: CallContext, @CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string) {
    return this.tenants.setStatus(call, tenant, 'delete');
  }

  @ApiOperation({ summary: 'Restore a deleted tenant' })
  @Post(':tenantId/restore')
  @HttpCode(200)
  @Authenticated({ scope: 'tenants:write', tenantManagers: true, allowSuspended: true })
  @ApiOkResponse({ type: TenantResponse })
  restore(@Caller() call: CallContext, @CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string) {
    return this.tenants.setStatus(call, tenant, 'restore');
  }
}

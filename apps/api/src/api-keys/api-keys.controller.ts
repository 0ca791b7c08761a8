import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { ListQuery } from '../common/list-query.dto';
import { ApiKeyList, CreateApiKeyDto, CreatedApiKeyResponse } from './api-key.dto';
import { ApiKeysService } from './api-keys.service';

@ApiTags('api-keys')
// Creating enforces the domain limit (a key's keys are no wider); listing shows key metadata.
@DomainScoped()
@Controller('v1/tenants/:tenantId/api-keys')
export class TenantApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @ApiOperation({ summary: "List a tenant's API keys" })
  @Get()
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyList })
  list(@CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string, @Query() query: ListQuery) {
    return this.keys.list(ApiKeysService.tenantOwner(tenant), query);
  }

  @ApiOperation({ summary: "Create a tenant's API key" })
  @Post()
  @Authenticated({ scope: 'api-keys:write' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'The key is in `key`, shown this once' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: CreateApiKeyDto,
  ) {
    return this.keys.create(call, ApiKeysService.tenantOwner(tenant), dto);
  }

  @ApiOperation({ summary: "Revoke a tenant's API key" })
  @Delete(':keyId')
  @HttpCode(204)
  @Authenticated({ scope: 'api-keys:write' })
  @ApiNoContentResponse({ description: 'Revoked; it stops working at once' })
  async revoke(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Param('keyId') keyId: string,
  ) {
    await this.keys.revoke(call, ApiKeysService.tenantOwner(tenant), keyId);
  }
}

/** The caller's own keys: a tenant credential's tenant, or a reseller credential's reseller. */
@ApiTags('api-keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @ApiOperation({ summary: "List the caller's owner's API keys" })
  @Get()
  @Authenticated({ scope: 'api-keys:read' })
  @ApiOkResponse({ type: ApiKeyList })
  async list(@Caller() call: CallContext, @Query() query: ListQuery) {
    return this.keys.list(await this.keys.ownerOf(call, false), query);
  }

  @ApiOperation({ summary: "Create an API key for the caller's owner" })
  @Post()
  @Authenticated({ scope: 'api-keys:write' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'The key is in `key`, shown this once' })
  @ApiResponse({ status: 423, description: 'The caller’s tenant is suspended or deleted (problem+json)' })
  async create(@Caller() call: CallContext, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(call, await this.keys.ownerOf(call, true), dto);
  }

  @ApiOperation({ summary: "Revoke one of the caller's owner's API keys" })
  @Delete(':keyId')
  @HttpCode(204)
  @Authenticated({ scope: 'api-keys:write' })
  @ApiNoContentResponse({ description: 'Revoked; it stops working at once' })
  async revoke(@Caller() call: CallContext, @Param('keyId') keyId: string) {
    await this.keys.revoke(call, await this.keys.ownerOf(call, true), keyId);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { ListQuery } from '../common/list-query.dto';
import { CreateTenantUserDto, UserList, UserResponse } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('v1/tenants/:tenantId/users')
export class TenantUsersController {
  constructor(private readonly users: UsersService) {}

  @ApiOperation({ summary: "List a tenant's users" })
  @Get()
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: UserList })
  list(@CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string, @Query() query: ListQuery) {
    return this.users.list({ tenantId: tenant.id }, query);
  }

  @ApiOperation({ summary: 'Create a tenant user' })
  @Post()
  @Authenticated({ scope: 'tenants:write' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiConflictResponse({ description: 'The email already has an account' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: CreateTenantUserDto,
  ) {
    return this.users.create(call, { tenantId: tenant.id }, dto);
  }

  @ApiOperation({ summary: 'Delete a tenant user' })
  @Delete(':userId')
  @HttpCode(204)
  @Authenticated({ scope: 'tenants:write' })
  @ApiNoContentResponse()
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _id: string,
    @Param('userId') userId: string,
  ) {
    await this.users.remove(call, { tenantId: tenant.id }, userId);
  }
}

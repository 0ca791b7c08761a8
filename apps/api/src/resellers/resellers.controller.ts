import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, type CallContext } from '../auth/request-context';
import { ListQuery } from '../common/list-query.dto';
import { CreateResellerUserDto, UserList, UserResponse } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import { CreateResellerDto, ResellerList, ResellerResponse, UpdateResellerDto } from './reseller.dto';
import { presentReseller, ResellersService } from './resellers.service';

@ApiTags('resellers')
@Controller('v1/resellers')
export class ResellersController {
  constructor(
    private readonly resellers: ResellersService,
    private readonly users: UsersService,
  ) {}

  @ApiOperation({ summary: 'List resellers' })
  @Get()
  @Authenticated({ tenantManagers: true, scope: 'tenants:read' })
  @ApiOkResponse({ type: ResellerList, description: 'All resellers for platform admins; a reseller sees itself' })
  list(@Caller() call: CallContext, @Query() query: ListQuery) {
    return this.resellers.list(call.principal, query);
  }

  @ApiOperation({ summary: 'Create a reseller' })
  @Post()
  @Authenticated({ platformOnly: true })
  @ApiCreatedResponse({ type: ResellerResponse })
  create(@Caller() call: CallContext, @Body() dto: CreateResellerDto) {
    return this.resellers.create(call, dto);
  }

  @ApiOperation({ summary: 'Get a reseller' })
  @Get(':resellerId')
  @Authenticated({ tenantManagers: true, scope: 'tenants:read' })
  @ApiOkResponse({ type: ResellerResponse })
  async get(@Caller() call: CallContext, @Param('resellerId') id: string) {
    return presentReseller(await this.resellers.load(call.principal, id));
  }

  @ApiOperation({ summary: 'Update a reseller' })
  @Patch(':resellerId')
  @Authenticated({ platformOnly: true })
  @ApiOkResponse({ type: ResellerResponse })
  async update(@Caller() call: CallContext, @Param('resellerId') id: string, @Body() dto: UpdateResellerDto) {
    return this.resellers.update(call, await this.resellers.load(call.principal, id), dto);
  }

  @ApiOperation({ summary: "List a reseller's admins" })
  @Get(':resellerId/users')
  @Authenticated({ tenantManagers: true, scope: 'tenants:read' })
  @ApiOkResponse({ type: UserList, description: 'The reseller’s admins' })
  async listUsers(@Caller() call: CallContext, @Param('resellerId') id: string, @Query() query: ListQuery) {
    const reseller = await this.resellers.load(call.principal, id);
    return this.users.list({ resellerId: reseller.id }, query);
  }

  @ApiOperation({ summary: 'Create a reseller admin' })
  @Post(':resellerId/users')
  @Authenticated({ tenantManagers: true, scope: 'tenants:write' })
  @ApiCreatedResponse({ type: UserResponse, description: 'A reseller admin' })
  async createUser(@Caller() call: CallContext, @Param('resellerId') id: string, @Body() dto: CreateResellerUserDto) {
    const reseller = await this.resellers.load(call.principal, id);
    return this.users.create(call, { resellerId: reseller.id }, { ...dto, role: 'reseller_admin' });
  }
}

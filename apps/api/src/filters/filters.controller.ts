import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import {
  FilterList,
  FilterPage,
  FilterResponse,
  FilterRuleBody,
  FilterRulePatchBody,
  FilterTestResult,
  ListFiltersQuery,
  ReorderFiltersDto,
  TestFiltersDto,
} from './filter.dto';
import { FiltersService } from './filters.service';

@ApiTags('filters')
@DomainScoped()
@Controller('v1/tenants/:tenantId/mailboxes/:mailboxId/filters')
export class FiltersController {
  constructor(private readonly filters: FiltersService) {}

  @ApiOperation({ summary: "List a mailbox's filter rules" })
  @Get()
  @Authenticated({ scope: 'filters:read' })
  @ApiOkResponse({ type: FilterPage, description: 'In the order they run' })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Query() query: ListFiltersQuery,
  ) {
    return this.filters.list(call, tenant, mailboxId, query);
  }

  @ApiOperation({ summary: 'Create a filter rule' })
  @Post()
  @Authenticated({ scope: 'filters:write' })
  @ApiBody({ type: FilterRuleBody })
  @ApiCreatedResponse({ type: FilterResponse, description: 'Added after the last rule' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() body: unknown,
  ) {
    return this.filters.create(call, tenant, mailboxId, body);
  }

  @ApiOperation({ summary: "Set the order of a mailbox's filter rules" })
  @Put('order')
  @Authenticated({ scope: 'filters:write' })
  @ApiOkResponse({ type: FilterList, description: 'All rules in their new order' })
  reorder(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: ReorderFiltersDto,
  ) {
    return this.filters.reorder(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: "Dry-run a message through a mailbox's filter rules" })
  @Post('test')
  @HttpCode(200)
  @Authenticated({ scope: 'filters:read' })
  @ApiOkResponse({ type: FilterTestResult, description: 'What the rules would do; nothing is delivered' })
  test(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: TestFiltersDto,
  ) {
    return this.filters.test(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: 'Get a filter rule' })
  @Get(':filterId')
  @Authenticated({ scope: 'filters:read' })
  @ApiOkResponse({ type: FilterResponse })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Param('filterId') filterId: string,
  ) {
    return this.filters.get(call, tenant, mailboxId, filterId);
  }

  @ApiOperation({ summary: 'Update a filter rule' })
  @Patch(':filterId')
  @Authenticated({ scope: 'filters:write' })
  @ApiBody({ type: FilterRulePatchBody })
  @ApiOkResponse({
    type: FilterResponse,
    description: 'Given fields replace the stored ones; the result is validated whole',
  })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Param('filterId') filterId: string,
    @Body() body: unknown,
  ) {
    return this.filters.update(call, tenant, mailboxId, filterId, body);
  }

  @ApiOperation({ summary: 'Delete a filter rule' })
  @Delete(':filterId')
  @HttpCode(204)
  @Authenticated({ scope: 'filters:write' })
  @ApiNoContentResponse()
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Param('filterId') filterId: string,
  ) {
    await this.filters.remove(call, tenant, mailboxId, filterId);
  }
}

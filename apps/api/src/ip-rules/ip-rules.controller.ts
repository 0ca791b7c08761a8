import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import {
  CheckIpDto,
  CreateIpRuleDto,
  IpCheckResult,
  IpRulePage,
  IpRuleResponse,
  ListIpRulesQuery,
  UpdateIpRuleDto,
} from './ip-rule.dto';
import { IpRulesService } from './ip-rules.service';

@ApiTags('ip-rules')
@Controller('v1/tenants/:tenantId/ip-rules')
export class IpRulesController {
  constructor(private readonly rules: IpRulesService) {}

  @ApiOperation({ summary: 'List IP rules' })
  @Get()
  @Authenticated({ scope: 'ip-rules:read' })
  @ApiOkResponse({ type: IpRulePage })
  list(@CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string, @Query() query: ListIpRulesQuery) {
    return this.rules.list(tenant, query);
  }

  @ApiOperation({ summary: 'Create an IP rule' })
  @Post()
  @Authenticated({ scope: 'ip-rules:write' })
  @ApiCreatedResponse({
    type: IpRuleResponse,
    description:
      'Per service: lowest priority first, then longest prefix, then deny before allow; the first match decides. ' +
      'No match: allowed, unless the service has an allow rule (then it is an allowlist).',
  })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Body() dto: CreateIpRuleDto,
  ) {
    return this.rules.create(call, tenant, dto);
  }

  @ApiOperation({ summary: 'Which IP rule applies to an address' })
  @Post('check')
  @HttpCode(200)
  @Authenticated({ scope: 'ip-rules:read' })
  @ApiOkResponse({ type: IpCheckResult, description: 'Whether this address may log in to the service, and why' })
  check(@CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string, @Body() dto: CheckIpDto) {
    return this.rules.check(tenant, dto);
  }

  @ApiOperation({ summary: 'Get an IP rule' })
  @Get(':ipRuleId')
  @Authenticated({ scope: 'ip-rules:read' })
  @ApiOkResponse({ type: IpRuleResponse })
  get(@CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string, @Param('ipRuleId') ruleId: string) {
    return this.rules.get(tenant, ruleId);
  }

  @ApiOperation({ summary: 'Update an IP rule' })
  @Patch(':ipRuleId')
  @Authenticated({ scope: 'ip-rules:write' })
  @ApiOkResponse({ type: IpRuleResponse })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('ipRuleId') ruleId: string,
    @Body() dto: UpdateIpRuleDto,
  ) {
    return this.rules.update(call, tenant, ruleId, dto);
  }

  @ApiOperation({ summary: 'Delete an IP rule' })
  @Delete(':ipRuleId')
  @HttpCode(204)
  @Authenticated({ scope: 'ip-rules:write' })
  @ApiNoContentResponse()
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('ipRuleId') ruleId: string,
  ) {
    await this.rules.remove(call, tenant, ruleId);
  }
}

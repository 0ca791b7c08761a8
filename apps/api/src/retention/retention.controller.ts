import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import {
  ListMailboxRetentionQuery,
  MailboxRetentionPage,
  MailboxRetentionResponse,
  PutMailboxRetentionDto,
  PutTenantRetentionDto,
  TenantRetentionResponse,
} from './retention.dto';
import { RetentionService } from './retention.service';

@ApiTags('retention')
@Controller('v1/tenants/:tenantId/retention')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @ApiOperation({ summary: "Get a tenant's retention policy" })
  @Get()
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({ type: TenantRetentionResponse })
  get(@CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string) {
    return this.retention.getTenant(tenant);
  }

  @ApiOperation({ summary: "Set a tenant's retention policy" })
  @Put()
  @Authenticated({ scope: 'retention:write' })
  @ApiOkResponse({
    type: TenantRetentionResponse,
    description: 'Replaces the tenant policy; mail on legal hold is never removed',
  })
  put(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Body() dto: PutTenantRetentionDto,
  ) {
    return this.retention.putTenant(call, tenant, dto);
  }

  @ApiOperation({ summary: 'List mailbox retention overrides' })
  @Get('mailboxes')
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({ type: MailboxRetentionPage, description: 'Mailboxes with overrides' })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Query() query: ListMailboxRetentionQuery,
  ) {
    return this.retention.listMailboxes(call, tenant, query);
  }

  @ApiOperation({ summary: "Get a mailbox's retention override" })
  @Get('mailboxes/:mailboxId')
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({ type: MailboxRetentionResponse })
  getMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.retention.getMailbox(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: "Set a mailbox's retention override" })
  @Put('mailboxes/:mailboxId')
  @Authenticated({ scope: 'retention:write' })
  @ApiOkResponse({ type: MailboxRetentionResponse, description: 'Replaces the mailbox’s overrides' })
  putMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: PutMailboxRetentionDto,
  ) {
    return this.retention.putMailbox(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: "Remove a mailbox's retention override" })
  @Delete('mailboxes/:mailboxId')
  @HttpCode(204)
  @Authenticated({ scope: 'retention:write' })
  @ApiNoContentResponse({ description: 'The mailbox follows the tenant policy again' })
  async removeMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    await this.retention.removeMailbox(call, tenant, mailboxId);
  }
}

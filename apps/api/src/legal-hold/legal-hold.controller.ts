import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { LegalHoldResponse, PutLegalHoldDto } from './legal-hold.dto';
import { LegalHoldService } from './legal-hold.service';

const HELD = 'While held, retention and deletions remove nothing; deleted mail stays hidden but kept';

/**
 * Legal hold of a whole tenant or one mailbox. Allowed on a suspended or deleted tenant too: a
 * hold that arrives during a deletion's grace period must still stop the purge.
 */
@ApiTags('legal hold')
@Controller('v1/tenants/:tenantId')
export class LegalHoldController {
  constructor(private readonly holds: LegalHoldService) {}

  @ApiOperation({ summary: "Get a tenant's legal hold" })
  @Get('legal-hold')
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({ type: LegalHoldResponse })
  getTenant(@CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string) {
    return this.holds.getTenant(tenant);
  }

  @ApiOperation({ summary: 'Put a tenant on legal hold' })
  @Put('legal-hold')
  @Authenticated({ scope: 'retention:write', allowSuspended: true })
  @ApiOkResponse({ type: LegalHoldResponse, description: HELD })
  putTenant(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Body() dto: PutLegalHoldDto,
  ) {
    return this.holds.setTenant(call, tenant, dto.reason);
  }

  @ApiOperation({ summary: "Release a tenant's legal hold" })
  @Delete('legal-hold')
  @HttpCode(204)
  @Authenticated({ scope: 'retention:write', allowSuspended: true })
  @ApiNoContentResponse({ description: 'The hold is lifted; retention applies again from its next run' })
  async deleteTenant(@Caller() call: CallContext, @CurrentTenant() tenant: Tenant, @Param('tenantId') _t: string) {
    await this.holds.setTenant(call, tenant, null);
  }

  @ApiOperation({ summary: "Get a mailbox's legal hold" })
  @Get('mailboxes/:mailboxId/legal-hold')
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({ type: LegalHoldResponse })
  getMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.holds.getMailbox(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: 'Put a mailbox on legal hold' })
  @Put('mailboxes/:mailboxId/legal-hold')
  @Authenticated({ scope: 'retention:write', allowSuspended: true })
  @ApiOkResponse({ type: LegalHoldResponse, description: HELD })
  putMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: PutLegalHoldDto,
  ) {
    return this.holds.setMailbox(call, tenant, mailboxId, dto.reason);
  }

  @ApiOperation({ summary: "Release a mailbox's legal hold" })
  @Delete('mailboxes/:mailboxId/legal-hold')
  @HttpCode(204)
  @Authenticated({ scope: 'retention:write', allowSuspended: true })
  @ApiNoContentResponse({ description: 'The hold is lifted' })
  async deleteMailbox(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    await this.holds.setMailbox(call, tenant, mailboxId, null);
  }
}

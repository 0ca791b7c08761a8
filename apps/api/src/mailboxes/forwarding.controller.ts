import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { ForwardingResponse, PutForwardingDto } from './forwarding.dto';
import { ForwardingService } from './forwarding.service';

@ApiTags('mailboxes')
@DomainScoped()
@Controller('v1/tenants/:tenantId/mailboxes/:mailboxId/forwarding')
export class ForwardingController {
  constructor(private readonly forwarding: ForwardingService) {}

  @ApiOperation({ summary: "Get a mailbox's forwarding" })
  @Get()
  @Authenticated({ scope: 'mailboxes:read' })
  @ApiOkResponse({ type: ForwardingResponse, description: '404 when the mailbox does not forward' })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.forwarding.get(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: "Set a mailbox's forwarding" })
  @Put()
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiOkResponse({
    type: ForwardingResponse,
    description: 'Forwards go out with an SRS envelope sender (SPF passes at the target) and show in the delivery log',
  })
  put(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: PutForwardingDto,
  ) {
    return this.forwarding.put(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: "Stop a mailbox's forwarding" })
  @Delete()
  @HttpCode(204)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiNoContentResponse({ description: 'Forwarding removed (or there was none)' })
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    await this.forwarding.remove(call, tenant, mailboxId);
  }
}

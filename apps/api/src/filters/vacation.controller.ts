import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { PutVacationDto, VacationResponse } from './vacation.dto';
import { VacationService } from './vacation.service';

@ApiTags('filters')
@DomainScoped()
@Controller('v1/tenants/:tenantId/mailboxes/:mailboxId/vacation')
export class VacationController {
  constructor(private readonly vacation: VacationService) {}

  @ApiOperation({ summary: "Get a mailbox's vacation reply" })
  @Get()
  @Authenticated({ scope: 'filters:read' })
  @ApiOkResponse({ type: VacationResponse, description: '404 when the mailbox has no vacation reply' })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.vacation.get(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: "Set a mailbox's vacation reply" })
  @Put()
  @Authenticated({ scope: 'filters:write' })
  @ApiOkResponse({
    type: VacationResponse,
    description: 'Never answers lists, bulk or auto-submitted mail; one reply per sender per intervalDays (RFC 3834)',
  })
  put(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: PutVacationDto,
  ) {
    return this.vacation.put(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: "Turn off a mailbox's vacation reply" })
  @Delete()
  @HttpCode(204)
  @Authenticated({ scope: 'filters:write' })
  @ApiNoContentResponse({ description: 'Removed (or there was none)' })
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    await this.vacation.remove(call, tenant, mailboxId);
  }
}

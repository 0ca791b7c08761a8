import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { AppPasswordList, CreateAppPasswordDto, CreatedAppPasswordResponse } from './app-password.dto';
import { AppPasswordsService } from './app-passwords.service';

@ApiTags('mailboxes')
@DomainScoped()
@Controller('v1/tenants/:tenantId/mailboxes/:mailboxId')
export class AppPasswordsController {
  constructor(private readonly appPasswords: AppPasswordsService) {}

  @ApiOperation({ summary: "List a mailbox's app passwords" })
  @Get('app-passwords')
  @Authenticated({ scope: 'mailboxes:read' })
  @ApiOkResponse({ type: AppPasswordList, description: 'Live ones, oldest first; never the secret' })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.appPasswords.list(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: 'Create an app password' })
  @Post('app-passwords')
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiCreatedResponse({
    type: CreatedAppPasswordResponse,
    description:
      'For one mail client: logs in as the mailbox over the given protocols. The password is shown this once.',
  })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: CreateAppPasswordDto,
  ) {
    return this.appPasswords.create(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: 'Revoke an app password' })
  @Delete('app-passwords/:appPasswordId')
  @HttpCode(204)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiNoContentResponse({ description: 'Revoked: refused at once, and its IMAP/POP3 sessions end' })
  async revoke(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Param('appPasswordId') appPasswordId: string,
  ) {
    await this.appPasswords.revoke(call, tenant, mailboxId, appPasswordId);
  }

  @ApiOperation({ summary: 'Sign a mailbox out everywhere' })
  @Post('sign-out-everywhere')
  @HttpCode(204)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiNoContentResponse({
    description: 'Revokes every app password and ends every live IMAP and POP3 session; the mailbox password stays',
  })
  async signOutEverywhere(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    await this.appPasswords.signOutEverywhere(call, tenant, mailboxId);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiTextBody } from '../common/text-body.decorator';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { readCsvBody } from './mailbox-csv-body';
import { MailboxCreator } from './mailbox-creator.service';
import { MailboxImportService } from './mailbox-import.service';
import {
  CreatedMailboxResponse,
  CreateMailboxDto,
  ImportMailboxesDto,
  ImportReport,
  ListMailboxesQuery,
  MailboxPage,
  MailboxResponse,
  PasswordChangedResponse,
  SetPasswordDto,
  UpdateMailboxDto,
} from './mailbox.dto';
import { MailboxesService } from './mailboxes.service';

@ApiTags('mailboxes')
@DomainScoped()
@Controller('v1/tenants/:tenantId/mailboxes')
export class MailboxesController {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly creator: MailboxCreator,
    private readonly importer: MailboxImportService,
  ) {}

  @ApiOperation({ summary: 'List mailboxes' })
  @Get()
  @Authenticated({ scope: 'mailboxes:read' })
  @ApiOkResponse({ type: MailboxPage })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Query() query: ListMailboxesQuery,
  ) {
    return this.mailboxes.list(call, tenant, query);
  }

  @ApiOperation({ summary: 'Create a mailbox' })
  @Post()
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiCreatedResponse({ type: CreatedMailboxResponse, description: 'With INBOX, Sent, Drafts, Trash and Junk' })
  @ApiConflictResponse({ description: 'Address taken, reserved (postmaster, abuse), or a plan limit reached' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Body() dto: CreateMailboxDto,
  ) {
    return this.creator.create(call, tenant, dto);
  }

  @ApiOperation({ summary: 'Import mailboxes from CSV or JSON' })
  @Post('import')
  @HttpCode(200)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiConsumes('text/csv', 'application/json')
  @ApiTextBody('text/csv')
  @ApiBody({
    type: ImportMailboxesDto,
    description:
      'CSV with a header line: address,name,password,quota. An empty password or "generate" generates one. ' +
      'At most 5000 rows and 10 MiB (as text/csv; JSON bodies are limited to 100 kB).',
  })
  @ApiOkResponse({ type: ImportReport, description: 'Each row created, skipped (address exists) or failed, with why' })
  async import(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Req() req: Request,
  ) {
    return this.importer.import(call, tenant, await readCsvBody(req));
  }

  @ApiOperation({ summary: 'Get a mailbox' })
  @Get(':mailboxId')
  @Authenticated({ scope: 'mailboxes:read' })
  @ApiOkResponse({ type: MailboxResponse })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.mailboxes.get(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: 'Update a mailbox' })
  @Patch(':mailboxId')
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiOkResponse({ type: MailboxResponse, description: 'status disabled refuses logins and incoming mail' })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: UpdateMailboxDto,
  ) {
    return this.mailboxes.update(call, tenant, mailboxId, dto);
  }

  @ApiOperation({ summary: 'Delete a mailbox' })
  @Delete(':mailboxId')
  @HttpCode(202)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiAcceptedResponse({
    type: MailboxResponse,
    description:
      'Deleted at once: mail to it is refused from now on. The worker then purges its folders and messages ' +
      'and frees its quota; the address can be created again after that.',
  })
  remove(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
  ) {
    return this.mailboxes.remove(call, tenant, mailboxId);
  }

  @ApiOperation({ summary: "Set a mailbox's password" })
  @Post(':mailboxId/password')
  @HttpCode(200)
  @Authenticated({ scope: 'mailboxes:write' })
  @ApiOkResponse({ type: PasswordChangedResponse })
  setPassword(
    @Caller() call: CallContext,
    @CurrentTenant() tenant: Tenant,
    @Param('tenantId') _t: string,
    @Param('mailboxId') mailboxId: string,
    @Body() dto: SetPasswordDto,
  ) {
    return this.mailboxes.setPassword(call, tenant, mailboxId, dto);
  }
}

import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated, DomainScoped } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { CreateDomainDto, DnsPlanResponse, DomainPage, DomainResponse, ListDomainsQuery } from './domain.dto';
import { DomainsService } from './domains.service';

@ApiTags('domains')
@DomainScoped()
@Controller('v1/tenants/:tenantId/domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @ApiOperation({ summary: 'List domains' })
  @Get()
  @Authenticated({ scope: 'domains:read' })
  @ApiOkResponse({ type: DomainPage })
  list(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Query() q: ListDomainsQuery,
  ) {
    return this.domains.list(call, t.id, q);
  }

  @ApiOperation({ summary: 'Add a domain' })
  @Post()
  @Authenticated({ scope: 'domains:write' })
  @ApiCreatedResponse({ type: DomainResponse, description: 'Added as pending; publish the records of GET .../dns' })
  @ApiConflictResponse({ description: 'Hosted on this platform already, or the maxDomains plan limit is reached' })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: CreateDomainDto,
  ) {
    return this.domains.create(call, t.id, dto);
  }

  @ApiOperation({ summary: 'Get a domain' })
  @Get(':domainId')
  @Authenticated({ scope: 'domains:read' })
  @ApiOkResponse({ type: DomainResponse })
  get(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.get(call, t.id, domainId);
  }

  @ApiOperation({ summary: 'Delete a domain' })
  @Delete(':domainId')
  @HttpCode(202)
  @Authenticated({ scope: 'domains:write' })
  @ApiAcceptedResponse({
    type: DomainResponse,
    description: 'Mail to it is refused at once; the worker removes its mailboxes, aliases and keys',
  })
  remove(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.remove(call, t.id, domainId);
  }

  @ApiOperation({ summary: "A domain's DNS records to publish, with their check state" })
  @Get(':domainId/dns')
  @Authenticated({ scope: 'domains:read' })
  @ApiOkResponse({ type: DnsPlanResponse, description: 'Every record to publish, with the result of the last check' })
  dns(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.plan(call, t.id, domainId);
  }

  @ApiOperation({ summary: "A domain's DNS records as a BIND zone file" })
  @Get(':domainId/zone')
  @Authenticated({ scope: 'domains:read' })
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The plan as a BIND zone fragment (absolute names), ready to paste',
    schema: { type: 'string' },
  })
  zone(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.zone(call, t.id, domainId);
  }

  @ApiOperation({ summary: "Check a domain's DNS records now" })
  @Post(':domainId/verify')
  @HttpCode(202)
  @Authenticated({ scope: 'domains:write' })
  @ApiAcceptedResponse({ description: 'A check is queued; GET .../dns shows its results' })
  verify(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.verify(call, t.id, domainId);
  }

  @ApiOperation({ summary: "Rotate a domain's DKIM key" })
  @Post(':domainId/dkim/rotate')
  @HttpCode(202)
  @Authenticated({ scope: 'domains:write' })
  @ApiAcceptedResponse({ type: DomainResponse, description: 'A new key to publish; signing switches once it verifies' })
  rotate(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('domainId') domainId: string,
  ) {
    return this.domains.rotateDkim(call, t.id, domainId);
  }
}

import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
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

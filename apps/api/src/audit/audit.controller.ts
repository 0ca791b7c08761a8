import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { CurrentTenant } from '../auth/request-context';
import { AuditPage, ListAuditQuery } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit-log')
@Controller('v1/tenants/:tenantId/audit-log')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @ApiOperation({ summary: "List a tenant's audit log" })
  @Get()
  @Authenticated({ scope: 'audit-log:read' })
  @ApiOkResponse({ type: AuditPage, description: 'Newest first' })
  list(@CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string, @Query() q: ListAuditQuery) {
    return this.audit.list(tenant, q);
  }
}

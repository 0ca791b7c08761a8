import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { CurrentTenant } from '../auth/request-context';
import { ListRetentionRunsQuery, RetentionRunPage } from './retention-runs.dto';
import { RetentionRunsService } from './retention-runs.service';

@ApiTags('retention')
@Controller('v1/tenants/:tenantId/retention/runs')
export class RetentionRunsController {
  constructor(private readonly runs: RetentionRunsService) {}

  @ApiOperation({ summary: 'List retention runs' })
  @Get()
  @Authenticated({ scope: 'retention:read' })
  @ApiOkResponse({
    type: RetentionRunPage,
    description: 'Recent retention runs that deleted mail of this tenant, newest first; per mailbox in the audit log',
  })
  list(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: ListRetentionRunsQuery) {
    return this.runs.list(t.id, q);
  }
}

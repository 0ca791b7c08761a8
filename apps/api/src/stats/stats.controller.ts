import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { CurrentTenant } from '../auth/request-context';
import {
  DeliveryStatsResponse,
  MessageStatsResponse,
  StatsWindowQuery,
  StorageStatsQuery,
  StorageStatsResponse,
} from './stats.dto';
import { StatsService } from './stats.service';

@ApiTags('stats')
@Controller('v1/tenants/:tenantId/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @ApiOperation({ summary: 'Messages in and out per day' })
  @Get('messages')
  @Authenticated({ scope: 'tenants:read' })
  @ApiOkResponse({ type: MessageStatsResponse, description: 'One entry per UTC day of the window' })
  messages(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: StatsWindowQuery) {
    return this.stats.messages(t.id, q.days);
  }

  @ApiOperation({ summary: 'Deliveries by outcome' })
  @Get('deliveries')
  @Authenticated({ scope: 'deliveries:read' })
  @ApiOkResponse({ type: DeliveryStatsResponse, description: 'Deliveries created in the window, by status now' })
  deliveries(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: StatsWindowQuery) {
    return this.stats.deliveries(t.id, q.days);
  }

  @ApiOperation({ summary: 'Storage by mailbox' })
  @Get('storage')
  @Authenticated({ scope: 'mailboxes:read' })
  @ApiOkResponse({ type: StorageStatsResponse, description: 'The largest mailboxes and the rest' })
  storage(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: StorageStatsQuery) {
    return this.stats.storage(t.id, q.limit);
  }
}

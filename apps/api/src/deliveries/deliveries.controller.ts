import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { DeliveriesService } from './deliveries.service';
import {
  CreateSuppressionDto,
  DeliveryPage,
  DeliveryResponse,
  ListDeliveriesQuery,
  ListSuppressionsQuery,
  SuppressionPage,
  SuppressionResponse,
  TraceQuery,
  TraceResponse,
} from './delivery.dto';
import { SuppressionsService } from './suppressions.service';

@ApiTags('deliveries')
@Controller('v1/tenants/:tenantId')
export class DeliveriesController {
  constructor(
    private readonly deliveries: DeliveriesService,
    private readonly suppressions: SuppressionsService,
  ) {}

  @ApiOperation({ summary: 'List outbound deliveries' })
  @Get('deliveries')
  @Authenticated({ scope: 'deliveries:read' })
  @ApiOkResponse({
    type: DeliveryPage,
    description: 'Newest first; filter by message id, sender, recipient, status, time',
  })
  list(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: ListDeliveriesQuery) {
    return this.deliveries.list(t.id, q);
  }

  @ApiOperation({ summary: 'Get a delivery with its attempts' })
  @Get('deliveries/:deliveryId')
  @Authenticated({ scope: 'deliveries:read' })
  @ApiOkResponse({ type: DeliveryResponse, description: 'With every attempt: remote host, full SMTP reply, timing' })
  get(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.get(t.id, deliveryId);
  }

  @ApiOperation({ summary: 'Retry a deferred or failed delivery now' })
  @Post('deliveries/:deliveryId/retry')
  @HttpCode(200)
  @Authenticated({ scope: 'deliveries:write' })
  @ApiOkResponse({
    type: DeliveryResponse,
    description:
      'Due now. A bounced delivery is queued again with a fresh lifetime (409 while its recipient is suppressed); 409 when delivered, cancelled or being sent',
  })
  retry(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('deliveryId') deliveryId: string,
  ) {
    return this.deliveries.act(call, t.id, deliveryId, 'retry');
  }

  @ApiOperation({ summary: 'Cancel a queued delivery' })
  @Post('deliveries/:deliveryId/cancel')
  @HttpCode(200)
  @Authenticated({ scope: 'deliveries:write' })
  @ApiOkResponse({ type: DeliveryResponse, description: '409 unless queued or deferred' })
  cancel(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('deliveryId') deliveryId: string,
  ) {
    return this.deliveries.act(call, t.id, deliveryId, 'cancel');
  }

  @ApiOperation({ summary: 'Trace a message through inbound and outbound mail' })
  @Get('trace')
  @Authenticated({ scope: 'deliveries:read' })
  @ApiOkResponse({
    type: TraceResponse,
    description: 'One message end to end: inbound verdicts, filter and folder, forwards, every outbound attempt',
  })
  trace(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: TraceQuery) {
    return this.deliveries.trace(t.id, q);
  }

  @ApiOperation({ summary: 'List suppressed recipients' })
  @Get('suppressions')
  @Authenticated({ scope: 'suppressions:read' })
  @ApiOkResponse({ type: SuppressionPage })
  listSuppressions(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: ListSuppressionsQuery) {
    return this.suppressions.list(t.id, q);
  }

  @ApiOperation({ summary: 'Suppress a recipient address' })
  @Post('suppressions')
  @Authenticated({ scope: 'suppressions:write' })
  @ApiCreatedResponse({ type: SuppressionResponse })
  addSuppression(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: CreateSuppressionDto,
  ) {
    return this.suppressions.add(call, t.id, dto);
  }

  @ApiOperation({ summary: 'Lift a suppression' })
  @Delete('suppressions/:suppressionId')
  @HttpCode(204)
  @Authenticated({ scope: 'suppressions:write' })
  @ApiNoContentResponse()
  async removeSuppression(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('suppressionId') id: string,
  ) {
    await this.suppressions.remove(call, t.id, id);
  }
}

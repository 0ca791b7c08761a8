import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { Caller, CurrentTenant, type CallContext } from '../auth/request-context';
import { ListQuery } from '../common/list-query.dto';
import {
  CreatedWebhookResponse,
  CreateWebhookDto,
  ListWebhookDeliveriesQuery,
  UpdateWebhookDto,
  WebhookDeliveryPage,
  WebhookPage,
  WebhookResponse,
} from './webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@Controller('v1/tenants/:tenantId/webhooks')
export class WebhooksController {
  constructor(private readonly hooks: WebhooksService) {}

  @ApiOperation({ summary: 'List webhooks' })
  @Get()
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOkResponse({ type: WebhookPage })
  list(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Query() q: ListQuery) {
    return this.hooks.list(t.id, q);
  }

  @ApiOperation({ summary: 'Create a webhook' })
  @Post()
  @Authenticated({ scope: 'webhooks:write' })
  @ApiCreatedResponse({
    type: CreatedWebhookResponse,
    description: 'Events are POSTed as JSON, signed in the Mailroom-Signature header',
  })
  create(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Body() dto: CreateWebhookDto,
  ) {
    return this.hooks.create(call, t.id, dto);
  }

  @ApiOperation({ summary: 'Get a webhook' })
  @Get(':webhookId')
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOkResponse({ type: WebhookResponse })
  get(@CurrentTenant() t: Tenant, @Param('tenantId') _id: string, @Param('webhookId') webhookId: string) {
    return this.hooks.get(t.id, webhookId);
  }

  @ApiOperation({ summary: 'Update a webhook' })
  @Patch(':webhookId')
  @Authenticated({ scope: 'webhooks:write' })
  @ApiOkResponse({ type: WebhookResponse })
  update(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('webhookId') webhookId: string,
    @Body() dto: UpdateWebhookDto,
  ) {
    return this.hooks.update(call, t.id, webhookId, dto);
  }

  @ApiOperation({ summary: 'Delete a webhook' })
  @Delete(':webhookId')
  @HttpCode(204)
  @Authenticated({ scope: 'webhooks:write' })
  @ApiNoContentResponse()
  async remove(
    @Caller() call: CallContext,
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('webhookId') webhookId: string,
  ) {
    await this.hooks.remove(call, t.id, webhookId);
  }

  @ApiOperation({ summary: "List a webhook's deliveries" })
  @Get(':webhookId/deliveries')
  @Authenticated({ scope: 'webhooks:read' })
  @ApiOkResponse({ type: WebhookDeliveryPage, description: 'The webhook’s own delivery log, newest first' })
  deliveries(
    @CurrentTenant() t: Tenant,
    @Param('tenantId') _id: string,
    @Param('webhookId') webhookId: string,
    @Query() q: ListWebhookDeliveriesQuery,
  ) {
    return this.hooks.deliveries(t.id, webhookId, q);
  }
}

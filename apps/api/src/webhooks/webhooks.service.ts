import { randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { NotFound, seal, ValidationFailed } from '@mailroom/core';
import type { Webhook } from '@mailroom/db';
import { isPublicAddress } from '@mailroom/rules';
import { WEBHOOK_SECRET_CONTEXT } from '@mailroom/webhooks';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import type { ListQuery } from '../common/list-query.dto';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import type { CreateWebhookDto, ListWebhookDeliveriesQuery, UpdateWebhookDto, WebhookResponse } from './webhook.dto';
import { WebhookRepository } from './webhook.repository';

export function presentWebhook(w: Webhook): WebhookResponse {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    enabled: w.enabled,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly hooks: WebhookRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Refuses internal targets in production; development and tests post to loopback sinks. */
  private checkUrl(url: string): void {
    if (this.config.NODE_ENV !== 'production') return;
    // A literal internal address is refused here; names are checked again by the worker on
    // every delivery, after resolving them (a name can point anywhere, and change).
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || (isIP(host) && !isPublicAddress(host))) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: 'url', message: 'must not point at a private or loopback address' },
      ]);
    }
  }

  private async load(tx: Tx, tenantId: string, id: string): Promise<Webhook> {
    const hook = /^[0-9a-f-]{36}$/i.test(id) ? await this.hooks.find(tx, tenantId, id) : null;
    if (!hook) throw new NotFound(`Webhook ${id} not found.`);
    return hook;
  }

  async list(tenantId: string, q: ListQuery): Promise<Page<WebhookResponse>> {
    const page = keyset(parseSort(q.sort, ['createdAt'] as const, 'createdAt'), q.cursor, q.limit);
    const rows = await this.db.tenant(tenantId, (tx) => this.hooks.list(tx, tenantId, page));
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentWebhook), nextCursor };
  }

  async get(tenantId: string, id: string): Promise<WebhookResponse> {
    return presentWebhook(await this.db.tenant(tenantId, (tx) => this.load(tx, tenantId, id)));
  }

  async create(
    call: CallContext,
    tenantId: string,
    dto: CreateWebhookDto,
  ): Promise<WebhookResponse & { secret: string }> {
    this.checkUrl(dto.url);
    const id = randomUUID();
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const hook = await this.db.tenant(tenantId, async (tx) => {
      const created = await this.hooks.create(tx, tenantId, {
        id,
        url: dto.url,
        events: dto.events,
        enabled: dto.enabled ?? true,
        secretEncrypted: seal(this.config.MASTER_KEY, secret, WEBHOOK_SECRET_CONTEXT(id)),
      });
      await this.audit.record(tx, call, {
        tenantId,
        action: 'webhook.create',
        targetType: 'webhook',
        targetId: id,
        after: presentWebhook(created),
      });
      return created;
    });
    return { ...presentWebhook(hook), secret };
  }

  async update(call: CallContext, tenantId: string, id: string, dto: UpdateWebhookDto): Promise<WebhookResponse> {
    if (dto.url) this.checkUrl(dto.url);
    const hook = await this.db.tenant(tenantId, async (tx) => {
      const before = await this.load(tx, tenantId, id);
      const after = await this.hooks.update(tx, tenantId, before.id, dto);
      await this.audit.record(tx, call, {
        tenantId,
        action: 'webhook.update',
        targetType: 'webhook',
        targetId: id,
        before: presentWebhook(before),
        after: presentWebhook(after),
      });
      return after;
    });
    return presentWebhook(hook);
  }

  async remove(call: CallContext, tenantId: string, id: string): Promise<void> {
    await this.db.tenant(tenantId, async (tx) => {
      const before = await this.load(tx, tenantId, id);
      await this.hooks.remove(tx, tenantId, before.id);
      await this.audit.record(tx, call, {
        tenantId,
        action: 'webhook.delete',
        targetType: 'webhook',
        targetId: id,
        before: presentWebhook(before),
      });
    });
  }

  async deliveries(tenantId: string, id: string, q: ListWebhookDeliveriesQuery) {
    const page = keyset(parseSort('-createdAt', ['createdAt'] as const, '-createdAt'), q.cursor, q.limit);
    const rows = await this.db.tenant(tenantId, async (tx) => {
      await this.load(tx, tenantId, id);
      return this.hooks.deliveries(tx, tenantId, id, q.status, page);
    });
    const { rows: items, nextCursor } = page.page(rows);
    return {
      items: items.map((d) => ({
        id: d.id,
        event: d.event,
        status: d.status,
        attempts: d.attempts,
        lastStatusCode: d.lastStatusCode,
        lastError: d.lastError,
        payload: d.payload,
        createdAt: d.createdAt.toISOString(),
        deliveredAt: d.deliveredAt?.toISOString() ?? null,
      })),
      nextCursor,
    };
  }
}

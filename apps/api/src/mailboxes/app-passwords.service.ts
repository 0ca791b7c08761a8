import { Inject, Injectable } from '@nestjs/common';
import { appPasswordKey, generateAppPassword } from '@mailroom/access';
import type { Config } from '@mailroom/config';
import { LimitExceeded, NotFound } from '@mailroom/core';
import type { AppPassword, Tenant } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { TenantDb } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import { AppPasswordRepository } from './app-password.repository';
import {
  MAX_APP_PASSWORDS,
  type AppPasswordResponse,
  type CreateAppPasswordDto,
  type CreatedAppPasswordResponse,
} from './app-password.dto';
import { isUuid, MailboxScope } from './mailbox-scope';
import { assertLive } from './mailboxes.service';

export function presentAppPassword(p: AppPassword): AppPasswordResponse {
  return {
    id: p.id,
    mailboxId: p.mailboxId,
    name: p.name,
    protocols: p.protocols as AppPasswordResponse['protocols'],
    createdAt: p.createdAt.toISOString(),
    lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: p.lastUsedIp,
  };
}

/**
 * App passwords of a mailbox: one generated secret per mail client, scoped to protocols, shown
 * once and stored as an HMAC (@mailroom/access checks them at login). Revoking one, and "sign
 * out everywhere", move the mailbox's auth_version, so cached logins miss and the IMAP/POP3
 * servers end live sessions on the NOTIFY that follows.
 */
@Injectable()
export class AppPasswordsService {
  private readonly key: Buffer;

  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly appPasswords: AppPasswordRepository,
    @Inject(CONFIG) config: Config,
  ) {
    this.key = appPasswordKey(config.MASTER_KEY);
  }

  async list(call: CallContext, tenant: Tenant, mailboxId: string): Promise<{ items: AppPasswordResponse[] }> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      return { items: (await this.appPasswords.listLive(tx, tenant.id, mailbox.id)).map(presentAppPassword) };
    });
  }

  async create(
    call: CallContext,
    tenant: Tenant,
    mailboxId: string,
    dto: CreateAppPasswordDto,
  ): Promise<CreatedAppPasswordResponse> {
    const made = generateAppPassword(this.key);
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      if ((await this.appPasswords.countLive(tx, tenant.id, mailbox.id)) >= MAX_APP_PASSWORDS) {
        throw new LimitExceeded(
          `A mailbox may have at most ${MAX_APP_PASSWORDS} app passwords; revoke ones no longer used.`,
        );
      }
      const row = await this.appPasswords.create(tx, tenant.id, mailbox.id, {
        name: dto.name,
        secretHash: made.secretHash,
        protocols: dto.protocols,
      });
      const view = presentAppPassword(row);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'app_password.create',
        targetType: 'app_password',
        targetId: row.id,
        after: view,
      });
      return { ...view, password: made.password };
    });
  }

  /** Revoking a revoked one changes nothing (204); an unknown id is 404. */
  async revoke(call: CallContext, tenant: Tenant, mailboxId: string, appPasswordId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const row = isUuid(appPasswordId) ? await this.appPasswords.find(tx, tenant.id, mailbox.id, appPasswordId) : null;
      if (!row) throw new NotFound(`App password ${appPasswordId} not found.`);
      if (!(await this.appPasswords.revoke(tx, tenant.id, row.id, new Date()))) return;
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'app_password.revoke',
        targetType: 'app_password',
        targetId: row.id,
        before: presentAppPassword(row),
      });
    });
  }

  async signOutEverywhere(call: CallContext, tenant: Tenant, mailboxId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const revoked = await this.appPasswords.revokeAll(tx, tenant.id, mailbox.id, new Date());
      await this.appPasswords.bumpAuthVersion(tx, tenant.id, mailbox.id);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'mailbox.sign_out_everywhere',
        targetType: 'mailbox',
        targetId: mailbox.id,
        // Not "revokedAppPasswords": the audit log redacts fields named like secrets.
        after: { revokedCount: revoked },
      });
    });
  }
}

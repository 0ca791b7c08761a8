import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import { Conflict, LimitExceeded, PASSWORD_HASH_OPTIONS, ValidationFailed, withPasswordHashSlot } from '@mailroom/core';
import { isUniqueViolation, type FolderKind, type Tenant } from '@mailroom/db';
import { checkLocalPart } from '@mailroom/mail';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { ensureSystemAliases, isReservedLocalPart, systemAliasDestination } from '../aliases/system-aliases';
import { presentAlias } from '../aliases/alias.presenter';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { AliasRepository } from '../aliases/alias.repository';
import { assertDomainAllowed, MailboxScope, type MailboxWithDomain } from './mailbox-scope';
import { MailboxRepository } from './mailbox.repository';
import { presentMailbox, type MailboxView } from './mailbox.presenter';
import { generatePassword, passwordProblem } from './password-policy';

/** The address already has a live mailbox: the import reports the row as skipped. */
export class AddressTaken extends Conflict {}

export const DEFAULT_QUOTA_BYTES = 1024 ** 3;

/** Special-use folders (RFC 6154) every new mailbox gets; INBOX is spelled as IMAP requires. */
const DEFAULT_FOLDERS: { name: string; kind: FolderKind }[] = [
  { name: 'INBOX', kind: 'inbox' },
  { name: 'Sent', kind: 'sent' },
  { name: 'Drafts', kind: 'drafts' },
  { name: 'Trash', kind: 'trash' },
  { name: 'Junk', kind: 'junk' },
];

export interface MailboxInput {
  localPart: string;
  domain?: string | undefined;
  domainId?: string | undefined;
  displayName?: string | null | undefined;
  password?: string | undefined;
  generatePassword?: boolean | undefined;
  quotaBytes?: number | undefined;
  protocols?: { smtp?: boolean | undefined; imap?: boolean | undefined; pop3?: boolean | undefined } | undefined;
}

interface Prepared {
  input: MailboxInput;
  localKey: string;
  passwordHash: string;
  generated: string | null;
  quotaBytes: bigint;
}

export function hashPassword(password: string): Promise<string> {
  return withPasswordHashSlot(() => argon2.hash(password, PASSWORD_HASH_OPTIONS));
}

/** Refuses a mailbox quota above the tenant's whole storage quota (a plan limit, so 409). */
export function checkQuotaAgainstPlan(tenant: Tenant, quotaBytes: bigint): void {
  if (quotaBytes > tenant.storageQuotaBytes) {
    throw new LimitExceeded(
      `Plan limit reached: storageQuotaBytes is ${tenant.storageQuotaBytes} for this tenant; a mailbox quota cannot be larger.`,
      { limit: 'storageQuotaBytes', value: Number(tenant.storageQuotaBytes) },
    );
  }
}

/** Creates one mailbox: the use case behind POST /mailboxes and each row of an import. */
@Injectable()
export class MailboxCreator {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly mailboxes: MailboxRepository,
    private readonly aliases: AliasRepository,
  ) {}

  async create(call: CallContext, tenant: Tenant, input: MailboxInput): Promise<MailboxView & { password?: string }> {
    return this.insert(call, tenant, await this.prepare(tenant, input));
  }

  /** Checks that need no database (local part, reserved names, password, quota), then hashes. */
  async prepare(tenant: Tenant, input: MailboxInput): Promise<Prepared> {
    const localPart = input.localPart.trim();
    const problem = checkLocalPart(localPart, { smtputf8: tenant.smtputf8Enabled });
    if (problem) {
      throw new ValidationFailed('The request has invalid fields.', [{ field: 'localPart', message: problem }]);
    }
    const localKey = localPart.toLowerCase();
    if (isReservedLocalPart(localKey)) {
      throw new Conflict(
        `${localKey}@ is a system alias that every domain has (postmaster: RFC 5321, abuse: RFC 2142), so it cannot be a mailbox; change where it delivers under /aliases.`,
      );
    }
    const generated = input.generatePassword || input.password === undefined ? generatePassword() : null;
    const password = generated ?? input.password!;
    const weak = passwordProblem(password, localKey);
    if (weak) throw new ValidationFailed('The request has invalid fields.', [{ field: 'password', message: weak }]);
    const quotaBytes =
      input.quotaBytes !== undefined
        ? BigInt(input.quotaBytes)
        : BigInt(Math.min(DEFAULT_QUOTA_BYTES, Number(tenant.storageQuotaBytes)));
    checkQuotaAgainstPlan(tenant, quotaBytes);
    return { input, localKey, passwordHash: await hashPassword(password), generated, quotaBytes };
  }

  async insert(call: CallContext, tenant: Tenant, p: Prepared): Promise<MailboxView & { password?: string }> {
    try {
      const created = await this.db.tenant(tenant.id, (tx) => this.insertInTx(tx, call, tenant.id, p));
      const view = presentMailbox(created);
      return p.generated ? { ...view, password: p.generated } : view;
    } catch (err) {
      // Two creates of one address at once: the unique key decides, the loser gets the 409.
      if (isUniqueViolation(err)) {
        throw new AddressTaken(`The address ${p.localKey}@ already exists in this domain.`);
      }
      throw err;
    }
  }

  private async insertInTx(tx: Tx, call: CallContext, tenantId: string, p: Prepared): Promise<MailboxWithDomain> {
    // Lock the tenant row: concurrent creates cannot both squeeze under maxMailboxes.
    const max = await this.mailboxes.lockTenantLimit(tx, tenantId);
    const domain = await this.scope.resolveDomain(tx, tenantId, p.input);
    assertDomainAllowed(call.principal, domain.name);
    if (domain.aliasOfId) {
      throw new ValidationFailed('The request has invalid fields.', [
        {
          field: p.input.domainId ? 'domainId' : 'domain',
          message: `${domain.name} is a domain alias; create the mailbox in its target domain`,
        },
      ]);
    }
    const address = `${p.localKey}@${domain.name}`;
    const existing = await this.mailboxes.findByAddress(tx, tenantId, domain.id, p.localKey);
    if (existing?.status === 'deleted') {
      throw new Conflict(
        `${address} was deleted at ${existing.deletedAt?.toISOString() ?? 'an earlier time'}; its folders and messages are still being purged, and the address can be used again once that finishes.`,
      );
    }
    if (existing) throw new AddressTaken(`${address} already exists.`);
    const alias = await this.aliases.findByAddress(tx, tenantId, domain.id, p.localKey);
    if (alias) throw new Conflict(`${address} is an alias; delete the alias first or choose another address.`);
    const count = await this.mailboxes.countLive(tx, tenantId);
    if (count >= max) {
      throw new LimitExceeded(`Plan limit reached: maxMailboxes is ${max} for this tenant.`, {
        limit: 'maxMailboxes',
        value: max,
      });
    }
    const protocols = p.input.protocols ?? {};
    const created = await this.mailboxes.create(
      tx,
      tenantId,
      {
        domainId: domain.id,
        localPart: p.localKey,
        displayName: p.input.displayName?.trim() || null,
        passwordHash: p.passwordHash,
        quotaBytes: p.quotaBytes,
        smtpEnabled: protocols.smtp ?? true,
        imapEnabled: protocols.imap ?? true,
        pop3Enabled: protocols.pop3 ?? true,
      },
      DEFAULT_FOLDERS,
    );
    await this.audit.record(tx, call, {
      tenantId,
      action: 'mailbox.create',
      targetType: 'mailbox',
      targetId: created.id,
      after: presentMailbox(created),
    });
    // With no tenant admin yet, postmaster@ and abuse@ go to the domain's first mailbox.
    const systemTo = (await systemAliasDestination(this.aliases, tx, tenantId, domain.id)) ?? address;
    for (const a of await ensureSystemAliases(this.aliases, tx, tenantId, domain.id, systemTo)) {
      await this.audit.record(tx, call, {
        tenantId,
        action: 'alias.create',
        targetType: 'alias',
        targetId: a.id,
        after: presentAlias({ ...a, domain: { id: domain.id, name: domain.name } }),
      });
    }
    return created;
  }
}

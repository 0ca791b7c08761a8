import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { Conflict, Forbidden, NotFound } from '@mailroom/core';
import type { DnsCheck } from '@mailroom/db';
import { renderBindZone } from '@mailroom/dns';
import { addDomain, newDkimKey, planForDomain, platformDnsFromConfig, type PlatformDns } from '@mailroom/onboarding';
import { JobName } from '@mailroom/queue';
import { AliasRepository } from '../aliases/alias.repository';
import { ensureSystemAliases, systemAliasDestination } from '../aliases/system-aliases';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { QueueService } from '../infra/queue.service';
import { TenantDb, type TenantScope, type Tx } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import type { CreateDomainDto, DnsPlanResponse, DomainResponse, ListDomainsQuery } from './domain.dto';
import { DomainRepository, type DomainWith } from './domain.repository';

export function presentDomain(d: DomainWith): DomainResponse {
  return {
    id: d.id,
    tenantId: d.tenantId,
    name: d.name,
    unicodeName: d.unicodeName,
    status: d.status,
    aliasOf: d.aliasOf?.name ?? null,
    dkim: d.dkimKeys
      .filter((k) => k.status !== 'retired')
      .sort((a, b) => +b.createdAt - +a.createdAt)
      .map((k) => ({ selector: k.selector, status: k.status, activatedAt: k.activatedAt?.toISOString() ?? null })),
    verifiedAt: d.verifiedAt?.toISOString() ?? null,
    activatedAt: d.activatedAt?.toISOString() ?? null,
    lastCheckedAt: d.lastCheckedAt?.toISOString() ?? null,
    nextCheckAt: d.nextCheckAt?.toISOString() ?? null,
    deletedAt: d.deletedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}

@Injectable()
export class DomainsService {
  private readonly platform: PlatformDns;

  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly queue: QueueService,
    private readonly domains: DomainRepository,
    private readonly aliases: AliasRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.platform = platformDnsFromConfig(config);
  }

  async list(call: CallContext, tenantId: string, q: ListDomainsQuery): Promise<Page<DomainResponse>> {
    const page = keyset(parseSort(q.sort, ['name', 'createdAt'] as const, 'name'), q.cursor, q.limit);
    const rows = await this.db.tenantRead(tenantId, (tx) =>
      this.domains.list(
        tx,
        tenantId,
        { onlyNames: call.principal.domains, status: q.status, search: q.q?.toLowerCase() },
        page,
      ),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentDomain), nextCursor };
  }

  private async load(tx: Tx | TenantScope, p: Principal, tenantId: string, domainId: string) {
    const domain = /^[0-9a-f-]{36}$/i.test(domainId)
      ? await this.domains.findLive(tx, tenantId, domainId, p.domains)
      : null;
    if (!domain) throw new NotFound(`Domain ${domainId} not found.`);
    return domain;
  }

  async get(call: CallContext, tenantId: string, domainId: string): Promise<DomainResponse> {
    return presentDomain(
      await this.db.tenantScoped(tenantId, (scope) => this.load(scope, call.principal, tenantId, domainId)),
    );
  }

  async create(call: CallContext, tenantId: string, dto: CreateDomainDto): Promise<DomainResponse> {
    if (call.principal.domains.length > 0) {
      throw new Forbidden(`This credential is limited to ${call.principal.domains.join(', ')}; it cannot add domains.`);
    }
    const created = await this.db.tenant(tenantId, async (tx) => {
      const { domain } = await addDomain(tx, this.platform, this.config.MASTER_KEY, {
        tenantId,
        name: dto.name,
        aliasOf: dto.aliasOf,
      });
      // postmaster@ and abuse@ exist on every domain (RFC 2142), pointing at a tenant admin; a
      // domain alias has none of its own (its target's answer).
      const destination = domain.aliasOfId ? null : await systemAliasDestination(this.aliases, tx, tenantId, domain.id);
      const systemAliases = destination
        ? await ensureSystemAliases(this.aliases, tx, tenantId, domain.id, destination)
        : [];
      for (const alias of systemAliases) {
        await this.audit.record(tx, call, {
          tenantId,
          action: 'alias.create',
          targetType: 'alias',
          targetId: alias.id,
          after: alias,
        });
      }
      const full = await this.domains.get(tx, tenantId, domain.id);
      await this.audit.record(tx, call, {
        tenantId,
        action: 'domain.create',
        targetType: 'domain',
        targetId: domain.id,
        after: presentDomain(full),
      });
      return full;
    });
    return presentDomain(created);
  }

  /** Stops mail at once (the MTA accepts only verified or active domains); the worker purges. */
  async remove(call: CallContext, tenantId: string, domainId: string): Promise<DomainResponse> {
    const removed = await this.db.tenant(tenantId, async (tx) => {
      const domain = await this.load(tx, call.principal, tenantId, domainId);
      const aliases = await this.domains.countAliasesOf(tx, tenantId, domain.id);
      if (aliases > 0) throw new Conflict(`Domain ${domain.name} has domain aliases; delete them first.`);
      const after = await this.domains.markDeleted(tx, tenantId, domain.id, new Date());
      await this.audit.record(tx, call, {
        tenantId,
        action: 'domain.delete',
        targetType: 'domain',
        targetId: domain.id,
        before: presentDomain(domain),
        after: presentDomain(after),
      });
      return after;
    });
    return presentDomain(removed);
  }

  async plan(call: CallContext, tenantId: string, domainId: string): Promise<DnsPlanResponse> {
    const domain = await this.db.tenantScoped(tenantId, (scope) =>
      this.load(scope, call.principal, tenantId, domainId),
    );
    const checks = new Map<string, DnsCheck>(domain.dnsChecks.map((c) => [c.recordKey, c]));
    const records = planForDomain(this.platform, domain, domain.dkimKeys, domain.dnsChecks).map((r) => {
      const check = checks.get(r.key);
      const found = Array.isArray(check?.found) ? check.found.filter((v): v is string => typeof v === 'string') : [];
      return { ...r, found, message: check?.message ?? null, checkedAt: check?.checkedAt?.toISOString() ?? null };
    });
    return { domain: presentDomain(domain), records };
  }

  async zone(call: CallContext, tenantId: string, domainId: string): Promise<string> {
    const domain = await this.db.tenantScoped(tenantId, (scope) =>
      this.load(scope, call.principal, tenantId, domainId),
    );
    return renderBindZone(planForDomain(this.platform, domain, domain.dkimKeys, domain.dnsChecks));
  }

  /** Makes the check due now (durable) and queues it; the periodic scan covers a Redis outage. */
  async verify(call: CallContext, tenantId: string, domainId: string): Promise<{ queued: boolean; domainId: string }> {
    await this.db.tenant(tenantId, async (tx) => {
      const domain = await this.load(tx, call.principal, tenantId, domainId);
      await this.domains.setNextCheck(tx, tenantId, domain.id, new Date());
      await this.audit.record(tx, call, {
        tenantId,
        action: 'domain.verify',
        targetType: 'domain',
        targetId: domain.id,
      });
    });
    const queued = await this.queue.tryAdd(JobName.DomainCheck, { tenantId, domainId });
    return { queued, domainId };
  }

  /** Publishes a new DKIM key; the worker switches signing to it once its record verifies. */
  async rotateDkim(call: CallContext, tenantId: string, domainId: string): Promise<DomainResponse> {
    const rotated = await this.db.tenant(tenantId, async (tx) => {
      const domain = await this.load(tx, call.principal, tenantId, domainId);
      if (domain.dkimKeys.some((k) => k.status === 'pending')) {
        throw new Conflict(
          `Domain ${domain.name} already has a new DKIM key waiting to be published; publish it and verify.`,
        );
      }
      const key = await newDkimKey(
        this.config.MASTER_KEY,
        new Date(),
        domain.dkimKeys.map((k) => k.selector),
      );
      await this.domains.addDkimKey(tx, tenantId, domain.id, key);
      await this.domains.setNextCheck(tx, tenantId, domain.id, new Date());
      await this.audit.record(tx, call, {
        tenantId,
        action: 'domain.dkim_rotate',
        targetType: 'domain',
        targetId: domain.id,
        after: { selector: key.selector },
      });
      return this.domains.get(tx, tenantId, domain.id);
    });
    return presentDomain(rotated);
  }
}

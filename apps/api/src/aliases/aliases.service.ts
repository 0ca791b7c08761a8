import { Injectable } from '@nestjs/common';
import { Conflict, NotFound, ValidationFailed, type FieldProblem } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { asciiDomain, checkLocalPart } from '@mailroom/mail';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { DomainRepository } from '../domains/domain.repository';
import { MailboxRepository } from '../mailboxes/mailbox.repository';
import { assertDomainAllowed, isUuid, MailboxScope } from '../mailboxes/mailbox-scope';
import { checkDestinations, parseDestinations } from './alias-destinations';
import type { AliasResponse, CreateAliasDto, ListAliasesQuery, UpdateAliasDto } from './alias.dto';
import { presentAlias, type AliasWithDomain } from './alias.presenter';
import { AliasRepository } from './alias.repository';
import { ensureSystemAliases, systemAliasDestination } from './system-aliases';

const invalid = (problems: FieldProblem[]) => new ValidationFailed('The request has invalid fields.', problems);

/**
 * Aliases: one source address (or `*` for a catch-all) to destinations. Destinations are
 * checked when written, so the MTA never meets a loop or an address that does not exist.
 */
@Injectable()
export class AliasesService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly aliases: AliasRepository,
    private readonly domains: DomainRepository,
    private readonly mailboxes: MailboxRepository,
  ) {}

  async list(call: CallContext, tenant: Tenant, query: ListAliasesQuery): Promise<Page<AliasResponse>> {
    const page = keyset(
      parseSort(query.sort, ['localPart', 'createdAt'] as const, 'localPart'),
      query.cursor,
      query.limit,
    );
    const domainName = query.domain ? (asciiDomain(query.domain) ?? query.domain.toLowerCase()) : undefined;
    const rows = await this.db.tenantRead(tenant.id, (tx) =>
      this.aliases.list(
        tx,
        tenant.id,
        {
          onlyDomains: call.principal.domains,
          domainName,
          catchAll: query.catchAll ? query.catchAll === 'true' : undefined,
          system: query.system ? query.system === 'true' : undefined,
          search: query.q,
        },
        page,
      ),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentAlias), nextCursor };
  }

  async get(call: CallContext, tenant: Tenant, aliasId: string): Promise<AliasResponse> {
    return presentAlias(await this.db.tenantRead(tenant.id, (tx) => this.load(tx, call, tenant.id, aliasId)));
  }

  async create(call: CallContext, tenant: Tenant, dto: CreateAliasDto): Promise<AliasResponse> {
    const localPart = dto.localPart.trim();
    const catchAll = localPart === '*';
    const localProblem = catchAll ? null : checkLocalPart(localPart, { smtputf8: tenant.smtputf8Enabled });
    const { parsed, problems } = parseDestinations(dto.destinations, tenant.smtputf8Enabled);
    if (localProblem) problems.unshift({ field: 'localPart', message: localProblem });
    if (problems.length) throw invalid(problems);
    const foreign = await this.foreignDomains(
      tenant.id,
      parsed.map((d) => d.domain),
    );
    const localKey = localPart.toLowerCase();
    const created = await this.db.tenant(tenant.id, async (tx) => {
      await this.aliases.lockTenant(tx, tenant.id);
      const domain = await this.scope.resolveDomain(tx, tenant.id, dto);
      assertDomainAllowed(call.principal, domain.name);
      if (domain.aliasOfId) {
        throw invalid([
          {
            field: dto.domainId ? 'domainId' : 'domain',
            message: `${domain.name} is a domain alias; add aliases to its target domain`,
          },
        ]);
      }
      const systemTo = await systemAliasDestination(this.aliases, tx, tenant.id, domain.id);
      for (const a of systemTo ? await ensureSystemAliases(this.aliases, tx, tenant.id, domain.id, systemTo) : []) {
        await this.record(tx, call, 'alias.create', { ...a, domain }, null);
      }
      const address = `${localKey}@${domain.name}`;
      const taken = await this.aliases.findByAddress(tx, tenant.id, domain.id, localKey);
      if (taken?.system) throw new Conflict(`${address} is a system alias; change its destinations with PATCH.`);
      if (taken) throw new Conflict(`${catchAll ? `The catch-all of ${domain.name}` : address} already exists.`);
      const box = await this.mailboxes.findByAddress(tx, tenant.id, domain.id, localKey);
      if (box) {
        throw new Conflict(
          `${address} is a mailbox${box.status === 'deleted' ? ' being purged' : ''}; an alias cannot have its address.`,
        );
      }
      const checked = checkDestinations(
        await this.aliases.addressGraph(tx, tenant.id),
        { domainId: domain.id, localKey, aliasId: null },
        parsed,
        foreign,
      );
      if (checked.problems.length) throw invalid(checked.problems);
      const alias = await this.aliases.create(tx, tenant.id, {
        domainId: domain.id,
        localPart: localKey,
        catchAll,
        destinations: checked.addresses,
        enabled: dto.enabled ?? true,
        description: dto.description || null,
      });
      await this.record(tx, call, 'alias.create', alias, null);
      return alias;
    });
    return presentAlias(created);
  }

  async update(call: CallContext, tenant: Tenant, aliasId: string, dto: UpdateAliasDto): Promise<AliasResponse> {
    const parsed = dto.destinations ? parseDestinations(dto.destinations, tenant.smtputf8Enabled) : null;
    if (parsed?.problems.length) throw invalid(parsed.problems);
    const foreign = parsed
      ? await this.foreignDomains(
          tenant.id,
          parsed.parsed.map((d) => d.domain),
        )
      : new Set<string>();
    const updated = await this.db.tenant(tenant.id, async (tx) => {
      await this.aliases.lockTenant(tx, tenant.id);
      const before = await this.load(tx, call, tenant.id, aliasId);
      if (before.system && dto.enabled === false) {
        throw new Conflict(
          `${before.localPart}@${before.domain.name} is a system alias and cannot be disabled; change its destinations instead.`,
        );
      }
      let destinations: string[] | undefined;
      if (parsed) {
        const source = { domainId: before.domainId, localKey: before.localPart, aliasId: before.id };
        const checked = checkDestinations(
          await this.aliases.addressGraph(tx, tenant.id),
          source,
          parsed.parsed,
          foreign,
        );
        if (checked.problems.length) throw invalid(checked.problems);
        destinations = checked.addresses;
      }
      const after = await this.aliases.update(tx, tenant.id, before.id, {
        destinations,
        enabled: dto.enabled,
        description: dto.description === undefined ? undefined : dto.description || null,
      });
      await this.record(tx, call, 'alias.update', after, before);
      return after;
    });
    return presentAlias(updated);
  }

  async remove(call: CallContext, tenant: Tenant, aliasId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      await this.aliases.lockTenant(tx, tenant.id);
      const before = await this.load(tx, call, tenant.id, aliasId);
      if (before.system) {
        throw new Conflict(
          `${before.localPart}@${before.domain.name} is a system alias every domain must have; it cannot be deleted.`,
        );
      }
      await this.aliases.remove(tx, tenant.id, before.id);
      await this.record(tx, call, 'alias.delete', null, before);
    });
  }

  private async load(tx: Tx, call: CallContext, tenantId: string, aliasId: string): Promise<AliasWithDomain> {
    const alias = isUuid(aliasId) ? await this.aliases.find(tx, tenantId, aliasId) : null;
    if (!alias) throw new NotFound(`Alias ${aliasId} not found.`);
    assertDomainAllowed(call.principal, alias.domain.name);
    return alias;
  }

  /** Which of these domains another tenant hosts: a platform-wide read returning names only. */
  private async foreignDomains(tenantId: string, names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    return this.db.platform((tx) => this.domains.foreignNames(tx, tenantId, names));
  }

  private record(
    tx: Tx,
    call: CallContext,
    action: string,
    after: AliasWithDomain | null,
    before: AliasWithDomain | null,
  ) {
    const target = (after ?? before)!;
    return this.audit.record(tx, call, {
      tenantId: target.tenantId,
      action,
      targetType: 'alias',
      targetId: target.id,
      before: before ? presentAlias(before) : null,
      after: after ? presentAlias(after) : null,
    });
  }
}

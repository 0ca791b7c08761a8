import { Injectable } from '@nestjs/common';
import { Forbidden, generateApiKey, Locked, NotFound, ValidationFailed, type FieldProblem } from '@mailroom/core';
import type { ApiKey, Tenant } from '@mailroom/db';
import { validateCidr } from '@mailroom/rules';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import type { ListQuery } from '../common/list-query.dto';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { DomainRepository } from '../domains/domain.repository';
import { TenantRepository } from '../tenants/tenant.repository';
import type { ApiKeyResponse, CreateApiKeyDto } from './api-key.dto';
import { ApiKeyRepository, type KeyOwner } from './api-key.repository';

export type ApiKeyView = ApiKeyResponse;

export function presentApiKey(k: ApiKey): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    ownerType: k.tenantId ? 'tenant' : 'reseller',
    tenantId: k.tenantId,
    resellerId: k.resellerId,
    scopes: k.scopes,
    domains: k.domains,
    ipAllowlist: k.ipAllowlist,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: k.lastUsedIp,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    createdBy: k.createdBy,
    createdAt: k.createdAt.toISOString(),
  };
}

export type { KeyOwner } from './api-key.repository';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly keys: ApiKeyRepository,
    private readonly tenants: TenantRepository,
    private readonly domains: DomainRepository,
  ) {}

  /** The owner of /v1/api-keys for this caller: its tenant, or its reseller. */
  async ownerOf(call: CallContext, forWrite: boolean): Promise<KeyOwner> {
    const p = call.principal;
    if (p.tenantId) {
      if (forWrite) {
        const tenant = await this.db.platform((tx) => this.tenants.find(tx, p.tenantId!));
        if (tenant && tenant.status !== 'active') {
          throw new Locked(`Tenant ${tenant.id} is ${tenant.status}: changes are refused.`);
        }
      }
      return { tenantId: p.tenantId };
    }
    if (p.resellerId) return { resellerId: p.resellerId };
    throw new ValidationFailed('Platform admins create keys under a tenant or reseller.', [
      { field: '(path)', message: 'use /v1/tenants/{tenantId}/api-keys' },
    ]);
  }

  private inScope<T>(owner: KeyOwner, work: (tx: Tx) => Promise<T>): Promise<T> {
    return 'tenantId' in owner ? this.db.tenant(owner.tenantId, work) : this.db.platform(work);
  }

  async list(owner: KeyOwner, query: ListQuery): Promise<Page<ApiKeyView>> {
    const page = keyset(parseSort(query.sort, ['createdAt', 'name'] as const, '-createdAt'), query.cursor, query.limit);
    const keys = await this.inScope(owner, (tx) => this.keys.list(tx, owner, page));
    const { rows, nextCursor } = page.page(keys);
    return { items: rows.map(presentApiKey), nextCursor };
  }

  /**
   * Issues a key no stronger than its creator: scopes and domains must be within the caller's
   * own (a key cannot mint a broader key), CIDRs must parse, named domains must be the
   * tenant's.
   */
  async create(call: CallContext, owner: KeyOwner, dto: CreateApiKeyDto): Promise<ApiKeyView & { key: string }> {
    const p = call.principal;
    const problems: FieldProblem[] = [];
    const missing = dto.scopes.filter((s) => !p.scopes.has(s as never));
    if (missing.length) throw new Forbidden(`A key cannot have scopes its creator lacks: ${missing.join(', ')}.`);
    if (p.domains.length > 0) {
      if (dto.domains.length === 0 || dto.domains.some((d) => !p.domains.includes(d))) {
        throw new Forbidden(`This credential is limited to ${p.domains.join(', ')}; a key it makes must be too.`);
      }
    }
    const cidrs: string[] = [];
    dto.ipAllowlist.forEach((raw, i) => {
      const result = validateCidr(raw);
      if (result.ok) cidrs.push(result.cidr);
      else problems.push({ field: `ipAllowlist.${i}`, message: result.error });
    });
    // A key made by a key keeps its creator's network and lifetime: inherited when not given,
    // and never wider or longer when given.
    let expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (p.expiresAt) {
      if (expiresAt && expiresAt > p.expiresAt) {
        throw new Forbidden(`This key expires at ${p.expiresAt.toISOString()}; a key it makes cannot outlive it.`);
      }
      expiresAt ??= p.expiresAt;
    }
    if (p.ipAllowlist.length > 0) {
      if (cidrs.length === 0) cidrs.push(...p.ipAllowlist);
      else if (cidrs.some((c) => !p.ipAllowlist.includes(c))) {
        throw new Forbidden(`This key may only be used from ${p.ipAllowlist.join(', ')}; a key it makes must be too.`);
      }
    }
    const created = generateApiKey();
    const row = await this.inScope(owner, async (tx) => {
      if ('tenantId' in owner && dto.domains.length) {
        const known = await this.domains.namesAmong(tx, owner.tenantId, dto.domains);
        dto.domains.forEach((d, i) => {
          if (!known.has(d)) {
            problems.push({ field: `domains.${i}`, message: `${d} is not a domain of this tenant` });
          }
        });
      }
      if (problems.length) throw new ValidationFailed('The request has invalid fields.', problems);
      const key = await this.keys.create(tx, owner, {
        name: dto.name,
        prefix: created.prefix,
        keyHash: created.hash,
        scopes: dto.scopes,
        domains: dto.domains,
        ipAllowlist: cidrs,
        expiresAt,
        createdBy: `${p.kind}:${p.id}`,
      });
      await this.audit.record(tx, call, {
        tenantId: key.tenantId,
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: key.id,
        after: presentApiKey(key),
      });
      return key;
    });
    return { ...presentApiKey(row), key: created.key };
  }

  /** Revokes at once: the next request with the key is refused. Revoking twice is harmless. */
  async revoke(call: CallContext, owner: KeyOwner, keyId: string): Promise<void> {
    await this.inScope(owner, async (tx) => {
      const key = /^[0-9a-f-]{36}$/i.test(keyId) ? await this.keys.find(tx, owner, keyId) : null;
      if (!key) throw new NotFound(`API key ${keyId} not found.`);
      if (key.revokedAt) return;
      const after = await this.keys.revoke(tx, owner, key.id, new Date());
      await this.audit.record(tx, call, {
        tenantId: key.tenantId,
        action: 'api_key.revoke',
        targetType: 'api_key',
        targetId: key.id,
        before: presentApiKey(key),
        after: presentApiKey(after),
      });
    });
  }

  static tenantOwner(tenant: Tenant): KeyOwner {
    return { tenantId: tenant.id };
  }
}

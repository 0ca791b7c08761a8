import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import { Conflict, Forbidden, NotFound, PASSWORD_HASH_OPTIONS, withPasswordHashSlot } from '@mailroom/core';
import type { AdminRole, AdminUser } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { coversUnrestricted, scopesForRole } from '../auth/principal';
import type { CallContext } from '../auth/request-context';
import type { ListQuery } from '../common/list-query.dto';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import type { UserResponse } from './user.dto';
import { UserRepository, type UserOwner as Owner } from './user.repository';

export function presentUser(u: AdminUser): UserResponse {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    resellerId: u.resellerId,
    tenantId: u.tenantId,
    disabled: u.disabled,
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
    createdAt: u.createdAt.toISOString(),
  };
}

/** People who administer a tenant or a reseller. Emails are unique across the platform. */
@Injectable()
export class UsersService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly users: UserRepository,
  ) {}

  private scope<T>(owner: Owner, work: (tx: Tx) => Promise<T>): Promise<T> {
    return 'tenantId' in owner ? this.db.tenant(owner.tenantId, work) : this.db.platform(work);
  }

  async list(owner: Owner, query: ListQuery): Promise<Page<UserResponse>> {
    const page = keyset(parseSort(query.sort, ['email', 'createdAt'] as const, 'email'), query.cursor, query.limit);
    const users = await this.scope(owner, (tx) => this.users.list(tx, owner, page));
    const { rows, nextCursor } = page.page(users);
    return { items: rows.map(presentUser), nextCursor };
  }

  async create(
    call: CallContext,
    owner: Owner,
    input: { email: string; password: string; role: AdminRole; displayName?: string | undefined },
  ): Promise<UserResponse> {
    // A person gets every scope of their role, with no domain, address or time limit: a limited
    // API key must not turn itself into such a login.
    if (!coversUnrestricted(call.principal, scopesForRole(input.role))) {
      throw new Forbidden(
        'This API key is limited (scopes, domains, addresses or expiry) and cannot create admin users.',
      );
    }
    const passwordHash = await withPasswordHashSlot(() => argon2.hash(input.password, PASSWORD_HASH_OPTIONS));
    // The email check crosses tenants (emails are global), so it runs outside the tenant scope.
    const taken = await this.db.platform((tx) => this.users.emailTaken(tx, input.email));
    if (taken) throw new Conflict(`An account with email ${input.email} already exists.`);
    const user = await this.scope(owner, async (tx) => {
      const created = await this.users.create(tx, owner, {
        email: input.email,
        passwordHash,
        role: input.role,
        displayName: input.displayName ?? null,
      });
      await this.audit.record(tx, call, {
        tenantId: 'tenantId' in owner ? owner.tenantId : null,
        action: 'user.create',
        targetType: 'admin_user',
        targetId: created.id,
        after: created,
      });
      return created;
    });
    return presentUser(user);
  }

  async remove(call: CallContext, owner: Owner, userId: string): Promise<void> {
    await this.scope(owner, async (tx) => {
      const user = /^[0-9a-f-]{36}$/i.test(userId) ? await this.users.find(tx, owner, userId) : null;
      if (!user) throw new NotFound(`User ${userId} not found.`);
      await this.users.remove(tx, owner, user.id);
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'user.delete',
        targetType: 'admin_user',
        targetId: user.id,
        before: user,
      });
    });
  }
}

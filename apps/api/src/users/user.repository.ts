import { Injectable } from '@nestjs/common';
import type { AdminRole, AdminUser, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

/** Whose users: one tenant's, or a reseller's own. */
export type UserOwner = { tenantId: string } | { resellerId: string };

export interface NewUser {
  email: string;
  passwordHash: string;
  role: AdminRole;
  displayName: string | null;
}

const ownerWhere = (owner: UserOwner) =>
  'tenantId' in owner ? { tenantId: owner.tenantId } : { resellerId: owner.resellerId, tenantId: null };

/** Admin users of a tenant or of a reseller. */
@Injectable()
export class UserRepository {
  list(tx: Tx, owner: UserOwner, page: PageWindow): Promise<AdminUser[]> {
    return tx.adminUser.findMany({
      where: { AND: [ownerWhere(owner), page.where] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, owner: UserOwner, id: string): Promise<AdminUser | null> {
    return tx.adminUser.findFirst({ where: { id, ...ownerWhere(owner) } });
  }

  /** Emails are unique across the platform: run this outside a tenant scope. */
  async emailTaken(tx: Tx, email: string): Promise<boolean> {
    return (await tx.adminUser.findUnique({ where: { email }, select: { id: true } })) !== null;
  }

  create(tx: Tx, owner: UserOwner, user: NewUser): Promise<AdminUser> {
    return tx.adminUser.create({ data: { ...ownerWhere(owner), ...user } });
  }

  async remove(tx: Tx, owner: UserOwner, id: string): Promise<void> {
    await tx.adminUser.deleteMany({ where: { id, ...ownerWhere(owner) } });
  }
}

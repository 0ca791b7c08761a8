import { Injectable } from '@nestjs/common';
import { Forbidden, NotFound } from '@mailroom/core';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { MfaRepository } from './mfa.repository';
import type { CallContext } from './request-context';

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

/** An admin's own sessions (logins, each a refresh token family): listed, ended one by one or all but this one. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly db: TenantDb,
    private readonly mfa: MfaRepository,
    private readonly audit: AuditService,
  ) {}

  private userOf(call: CallContext): string {
    if (call.principal.kind !== 'user') throw new Forbidden('Sessions are for people; API keys have none.');
    return call.principal.id;
  }

  async list(call: CallContext): Promise<{ items: SessionView[] }> {
    const rows = await this.mfa.listSessions(this.userOf(call));
    return {
      items: rows.map((r) => ({
        id: r.id,
        current: r.id === call.principal.sessionId,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
        ip: r.ip,
        userAgent: r.userAgent,
      })),
    };
  }

  /** Ends one session: its refresh token stops working and its access tokens at once. */
  async end(call: CallContext, sessionId: string): Promise<void> {
    const userId = this.userOf(call);
    const live = /^[0-9a-f-]{36}$/i.test(sessionId) ? await this.mfa.listSessions(userId) : [];
    if (!live.some((s) => s.id === sessionId)) throw new NotFound(`Session ${sessionId} not found.`);
    await this.db.platform(async (tx) => {
      await this.mfa.endSessions(tx, userId, [sessionId], new Date());
      await this.audit.record(tx, call, {
        tenantId: call.principal.tenantId,
        action: 'session.end',
        targetType: 'session',
        targetId: sessionId,
      });
    });
  }

  /** "Sign out everywhere": every session but the caller's own. */
  async endOthers(call: CallContext): Promise<{ ended: number }> {
    const userId = this.userOf(call);
    const others = (await this.mfa.listSessions(userId))
      .map((s) => s.id)
      .filter((id) => id !== call.principal.sessionId);
    await this.db.platform(async (tx) => {
      await this.mfa.endSessions(tx, userId, others, new Date());
      await this.audit.record(tx, call, {
        tenantId: call.principal.tenantId,
        action: 'session.end_others',
        targetType: 'admin_user',
        targetId: userId,
        after: { ended: others.length },
      });
    });
    return { ended: others.length };
  }
}

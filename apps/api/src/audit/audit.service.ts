import { Injectable } from '@nestjs/common';
import type { AuditLog, JsonValue, Tenant } from '@mailroom/db';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import type { ListAuditQuery } from './audit.dto';
import { AuditRepository } from './audit.repository';

const SECRET_FIELD = /password|hash|secret|token|privatekey|^key$/i;

/** A JSON-safe copy with secrets replaced, dates as ISO strings and big integers as numbers. */
export function redact(value: unknown): JsonValue | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map((v) => redact(v)) as JsonValue;
  if (typeof value === 'object') {
    const out: Record<string, JsonValue | null> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v);
    }
    return out as JsonValue;
  }
  return value as JsonValue;
}

export type AuditLogView = Omit<AuditLog, 'createdAt'> & { createdAt: string };

export interface AuditEntry {
  tenantId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** Records who changed what, in the same transaction as the change itself, and reads it back. */
@Injectable()
export class AuditService {
  constructor(
    private readonly db: TenantDb,
    private readonly auditLog: AuditRepository,
  ) {}

  async record(tx: Tx, call: CallContext, entry: AuditEntry): Promise<void> {
    const p = call.principal;
    await this.auditLog.insert(tx, {
      tenantId: entry.tenantId,
      resellerId: p.resellerId,
      actorType: p.kind === 'user' ? 'user' : 'api_key',
      actorId: p.id,
      actorLabel: p.label,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      before: redact(entry.before),
      after: redact(entry.after),
      ip: p.ip,
      requestId: call.requestId,
    });
  }

  /** The tenant's audit log, newest first; an action ending in `*` is a prefix. */
  async list(tenant: Tenant, q: ListAuditQuery): Promise<Page<AuditLogView>> {
    const page = keyset(parseSort('-createdAt', ['createdAt'], '-createdAt'), q.cursor, q.limit);
    const action = q.action?.endsWith('*')
      ? { prefix: q.action.slice(0, -1) }
      : q.action
        ? { exact: q.action }
        : undefined;
    const rows = await this.db.tenantRead(tenant.id, (tx) =>
      this.auditLog.list(
        tx,
        tenant.id,
        {
          actorId: q.actor,
          action,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        page,
      ),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })), nextCursor };
  }
}

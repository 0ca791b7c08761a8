import { Injectable } from '@nestjs/common';
import type { Prisma } from '@mailroom/db';
import type { CallContext } from '../auth/request-context';
import type { Tx } from '../infra/tenant-db.service';

const SECRET_FIELD = /password|hash|secret|token|privatekey|^key$/i;

/** A JSON-safe copy with secrets replaced, dates as ISO strings and big integers as numbers. */
export function redact(value: unknown): Prisma.InputJsonValue | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map((v) => redact(v)) as Prisma.InputJsonValue;
  if (typeof value === 'object') {
    const out: Record<string, Prisma.InputJsonValue | null> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v);
    }
    return out as Prisma.InputJsonValue;
  }
  return value as Prisma.InputJsonValue;
}

export interface AuditEntry {
  tenantId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** Records who changed what, in the same transaction as the change itself. */
@Injectable()
export class AuditService {
  async record(tx: Tx, call: CallContext, entry: AuditEntry): Promise<void> {
    const p = call.principal;
    await tx.auditLog.create({
      data: {
        tenantId: entry.tenantId,
        resellerId: p.resellerId,
        actorType: p.kind === 'user' ? 'user' : 'api_key',
        actorId: p.id,
        actorLabel: p.label,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        before: redact(entry.before) ?? undefined,
        after: redact(entry.after) ?? undefined,
        ip: p.ip,
        requestId: call.requestId,
      },
    });
  }
}

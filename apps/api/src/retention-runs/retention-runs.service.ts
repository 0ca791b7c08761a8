import { Injectable } from '@nestjs/common';
import type { JobRun } from '@mailroom/db';
import { JobName } from '@mailroom/queue';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import type { ListRetentionRunsQuery, RetentionRunResponse } from './retention-runs.dto';
import { RetentionRunRepository } from './retention-run.repository';

interface Stats {
  runId?: string;
  messagesDeleted?: number;
  bytesFreed?: number;
  mailboxes?: number;
  byFolderKind?: Record<string, { messages: number; bytes: number }>;
}

function present(r: JobRun): RetentionRunResponse {
  const s = (r.stats ?? {}) as Stats;
  return {
    id: r.id,
    runId: s.runId ?? null,
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    messagesDeleted: s.messagesDeleted ?? 0,
    bytesFreed: s.bytesFreed ?? 0,
    mailboxes: s.mailboxes ?? 0,
    byFolderKind: s.byFolderKind ?? {},
  };
}

/**
 * The tenant's part of recent retention runs, newest first: the worker writes one job_runs row
 * per run and tenant that deleted something, kept current batch by batch.
 */
@Injectable()
export class RetentionRunsService {
  constructor(
    private readonly db: TenantDb,
    private readonly runs: RetentionRunRepository,
  ) {}

  async list(tenantId: string, q: ListRetentionRunsQuery): Promise<Page<RetentionRunResponse>> {
    const page = keyset(parseSort('-startedAt', ['startedAt'] as const, '-startedAt'), q.cursor, q.limit);
    const rows = await this.db.tenant(tenantId, (tx) => this.runs.list(tx, tenantId, JobName.RetentionRun, page));
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(present), nextCursor };
  }
}

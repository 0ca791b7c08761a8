import { Injectable } from '@nestjs/common';
import { DomainError, ValidationFailed } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { parseMailAddress } from '@mailroom/mail';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { TenantDb } from '../infra/tenant-db.service';
import { MailboxRepository } from './mailbox.repository';
import { parseByteSize, parseCsv } from './csv';
import { AddressTaken, MailboxCreator, type MailboxInput } from './mailbox-creator.service';
import type { ImportRow } from './mailbox.dto';

export const MAX_IMPORT_ROWS = 5000;
const COLUMNS = ['address', 'name', 'password', 'quota'] as const;
type Column = (typeof COLUMNS)[number];
// argon2id runs on libuv's thread pool (4 threads by default): hash a few rows at once.
const HASH_CONCURRENCY = 4;

interface Row {
  line: number;
  address: string;
  input?: MailboxInput;
  result?: ImportRow;
}

function reasonOf(err: unknown): string {
  if (err instanceof ValidationFailed) return err.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  if (err instanceof DomainError) return err.message;
  throw err;
}

/**
 * POST /mailboxes/import: one CSV with a header line naming the columns address, name,
 * password, quota (address required, any order). Each row runs in its own transaction, so a
 * bad row never undoes a good one; an address that already has a mailbox is skipped, so the
 * same file can be sent again after fixing the failed rows.
 */
@Injectable()
export class MailboxImportService {
  constructor(
    private readonly creator: MailboxCreator,
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly mailboxes: MailboxRepository,
  ) {}

  async import(call: CallContext, tenant: Tenant, csv: string) {
    const rows = this.readRows(tenant, csv);
    await this.skipExisting(tenant.id, rows);
    for (let i = 0; i < rows.length; i += HASH_CONCURRENCY) {
      const batch = rows.slice(i, i + HASH_CONCURRENCY);
      const prepared = await Promise.all(
        batch.map(async (row) => {
          if (row.result || !row.input) return null;
          try {
            return await this.creator.prepare(tenant, row.input);
          } catch (err) {
            row.result = { line: row.line, address: row.address, status: 'failed', reason: reasonOf(err) };
            return null;
          }
        }),
      );
      // Inserts run one after the other: each locks the tenant row for the maxMailboxes check.
      for (const [j, row] of batch.entries()) {
        const p = prepared[j];
        if (!p) continue;
        try {
          const created = await this.creator.insert(call, tenant, p);
          row.result = { line: row.line, address: created.address, status: 'created', id: created.id };
          if (created.password) row.result.password = created.password;
        } catch (err) {
          const status = err instanceof AddressTaken ? 'skipped' : 'failed';
          const reason = status === 'skipped' ? 'already exists' : reasonOf(err);
          row.result = { line: row.line, address: row.address, status, reason };
        }
      }
    }
    const results = rows.map((r) => r.result!);
    const count = (s: ImportRow['status']) => results.filter((r) => r.status === s).length;
    const report = { created: count('created'), skipped: count('skipped'), failed: count('failed') };
    await this.db.tenant(tenant.id, (tx) =>
      this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'mailbox.import',
        targetType: 'tenant',
        targetId: tenant.id,
        after: { ...report, rows: results.length },
      }),
    );
    return { ...report, rows: results };
  }

  /** Addresses that already have a mailbox are skipped before any password is hashed. */
  private async skipExisting(tenantId: string, rows: Row[]): Promise<void> {
    const taken = new Set(await this.db.tenant(tenantId, (tx) => this.mailboxes.liveAddresses(tx, tenantId)));
    for (const row of rows) {
      const input = row.input;
      if (!row.result && input && taken.has(`${input.localPart.toLowerCase()}@${input.domain}`)) {
        row.result = { line: row.line, address: row.address, status: 'skipped', reason: 'already exists' };
      }
    }
  }

  /** The CSV as rows, each with its input or its result already decided (bad or repeated). */
  private readRows(tenant: Tenant, csv: string): Row[] {
    const parsed = parseCsv(csv);
    const invalid = (message: string) =>
      new ValidationFailed('The CSV cannot be imported.', [{ field: 'csv', message }]);
    if (!parsed.ok) throw invalid(parsed.message);
    const [header, ...records] = parsed.records;
    if (!header) throw invalid('is empty: the first line names the columns (address,name,password,quota)');
    const names = header.fields.map((f) => f.trim().toLowerCase());
    const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
    if (unknown.length) throw invalid(`unknown column ${unknown.join(', ')}; the columns are ${COLUMNS.join(', ')}`);
    if (!names.includes('address')) throw invalid('the header line must name an address column');
    if (new Set(names).size !== names.length) throw invalid('a column is named twice in the header line');
    if (records.length === 0) throw invalid('has a header line but no rows');
    if (records.length > MAX_IMPORT_ROWS) {
      throw invalid(`has ${records.length} rows; at most ${MAX_IMPORT_ROWS} per call, so split the file`);
    }
    const seen = new Map<string, number>();
    return records.map((record) => {
      const cell = (c: Column) => record.fields[names.indexOf(c)]?.trim() ?? '';
      const address = cell('address');
      const row: Row = { line: record.line, address };
      const fail = (reason: string) => {
        row.result = { line: record.line, address, status: 'failed', reason };
        return row;
      };
      if (record.fields.length !== names.length) {
        return fail(`has ${record.fields.length} fields; the header line has ${names.length}`);
      }
      const parsedAddress = parseMailAddress(address, { smtputf8: tenant.smtputf8Enabled });
      if (!parsedAddress.ok) return fail(`address: ${parsedAddress.message}`);
      const key = `${parsedAddress.value.localKey}@${parsedAddress.value.domain}`;
      const first = seen.get(key);
      if (first !== undefined) {
        row.result = { line: record.line, address, status: 'skipped', reason: `repeats line ${first}` };
        return row;
      }
      seen.set(key, record.line);
      const quotaText = cell('quota');
      const quota = quotaText === '' ? undefined : parseByteSize(quotaText);
      if (quota === null) return fail('quota: must be bytes or a size such as 500M, 2G, 1.5GiB');
      if (quota !== undefined && quota < 1024 * 1024) return fail('quota: must be at least 1 MiB');
      const password = cell('password');
      row.input = {
        localPart: parsedAddress.value.localPart,
        domain: parsedAddress.value.domain,
        displayName: cell('name') || null,
        ...(password === '' || password.toLowerCase() === 'generate' ? { generatePassword: true } : { password }),
        quotaBytes: quota,
      };
      return row;
    });
  }
}

import { createHash } from 'node:crypto';
import { storeBlob, type Prisma, type PrismaClient } from '@mailroom/db';
import type { MailboxCopy, TenantPlan, VacationPlan } from '@mailroom/rules';
import { replies } from '../core/smtp-reply';
import { tenantUsage } from './tenant-usage';

type Tx = Prisma.TransactionClient;

export interface HeaderSummary {
  messageId: string | null;
  subject: string | null;
  fromAddress: string | null;
  fromName: string | null;
  toAddresses: string[];
  sentAt: Date | null;
}

export interface StoreRequest {
  /** The message as stored: our trace headers, then the bytes as received. */
  bytes: Buffer;
  envelopeFrom: string;
  /** Envelope sender of forwards: SRS-rewritten, '' for the null sender. */
  forwardSender: string;
  remoteIp: string;
  helo: string | null;
  header: HeaderSummary;
  spamScore: number | null;
  authResults: Prisma.InputJsonValue;
  tenants: TenantPlan[];
  vacationReplies: Map<VacationPlan, Buffer>;
  /** RET and ENVID of MAIL FROM, relayed with forwards (RFC 3461 §6.2). */
  dsn?: { ret: string | null; envid: string | null } | null;
}

export interface StoreResult {
  messageIds: string[];
  outboundIds: string[];
  /** Deliveries queued for forwards and vacation replies. */
  deliveries: Array<{ tenantId: string; deliveryId: string }>;
}

// A 50 MB insert over a slow link takes a while; the default of 5 s would abort it.
const TX_TIMEOUT_MS = 120_000;
const DELIVERY_LIFETIME_MS = 5 * 86_400_000;

/**
 * Commits one message in one transaction: the raw message once per tenant as a content-addressed
 * blob, one row per mailbox copy (folder uid allocated, quota re-checked and updated), outbox
 * rows for forwards and vacation replies. Either all of it is there or none of it. Mailboxes are
 * locked in id order, so two messages to the same mailboxes never deadlock.
 */
export class MessageStore {
  constructor(private readonly prisma: PrismaClient) {}

  async store(request: StoreRequest): Promise<StoreResult> {
    return this.prisma.$transaction((tx) => this.storeIn(tx, request), { timeout: TX_TIMEOUT_MS, maxWait: 10_000 });
  }

  /** The same, inside a caller's transaction (submission commits its own rows with it). */
  async storeIn(tx: Tx, request: StoreRequest): Promise<StoreResult> {
    const sha256 = createHash('sha256').update(request.bytes).digest('hex');
    const result: StoreResult = { messageIds: [], outboundIds: [], deliveries: [] };
    const tenants = [...request.tenants].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    for (const plan of tenants) await this.storeTenant(tx, plan, request, sha256, result);
    return result;
  }

  private async storeTenant(tx: Tx, plan: TenantPlan, req: StoreRequest, sha256: string, out: StoreResult) {
    const { tenantId } = plan;
    if (plan.copies.length + plan.forwards.length > 0) await insertBlob(tx, tenantId, sha256, req.bytes);
    const copies = [...plan.copies].sort((a, b) => a.target.mailboxId.localeCompare(b.target.mailboxId));
    const stored = new Map<string, string>();
    for (const copy of copies) {
      const id = await this.storeCopy(tx, tenantId, copy, req, sha256);
      stored.set(copy.target.mailboxId, id);
      out.messageIds.push(id);
    }
    if (copies.length > 0) await checkTenantQuota(tx, tenantId, copies.length * req.bytes.length);
    for (const forward of plan.forwards) {
      const outbound = {
        kind: 'forward' as const,
        mailboxId: forward.mailboxId,
        envelopeFrom: req.forwardSender,
        fromDomain: forward.fromDomain,
        sha256,
        size: req.bytes.length,
        header: req.header,
        sourceMessageId: forward.mailboxId ? (stored.get(forward.mailboxId) ?? null) : null,
        dsnRet: req.dsn?.ret ?? null,
        dsnEnvid: req.dsn?.envid ?? null,
      };
      const recipients = forward.recipients.map((address) => ({
        address,
        dsnNotify: forward.dsn?.notify ?? [],
        dsnOrcpt: forward.dsn?.orcpt ?? null,
      }));
      const queued = await queueOutbound(tx, tenantId, outbound, recipients);
      out.outboundIds.push(queued.id);
      out.deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId, deliveryId })));
    }
    for (const vacation of plan.vacations) {
      const queued = await this.queueVacation(tx, tenantId, vacation, req, stored.get(vacation.mailboxId));
      out.outboundIds.push(queued.id);
      out.deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId, deliveryId })));
    }
  }

  /**
   * One mailbox copy: quota re-checked and updated, folder uid allocated, message row, in one
   * statement (this runs for every recipient of every message; it was four Prisma queries).
   * The mailbox row is locked before the folder row, as everywhere else.
   */
  async storeCopy(tx: Tx, tenantId: string, copy: MailboxCopy, req: StoreRequest, sha256: string): Promise<string> {
    const size = req.bytes.length;
    const mailboxId = copy.target.mailboxId;
    // A named folder (a filter's fileinto) falls back to the Inbox when it does not exist.
    let name = copy.folder.kind === 'named' ? copy.folder.name : null;
    const kind = copy.folder.kind === 'named' ? 'inbox' : copy.folder.kind;
    const h = req.header;
    for (let attempt = 0; attempt < 2; attempt++) {
      const [row] = await tx.$queryRaw<{ folder_id: string | null; counted: number; message_id: string | null }[]>`
        WITH target AS (
          SELECT id FROM folders
          WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid
            AND (name = ${name} OR kind = ${kind}::"FolderKind")
          ORDER BY (name = ${name}) DESC NULLS LAST, created_at
          LIMIT 1
        ), counted AS (
          -- The RCPT check is advisory; this conditional update is the one that holds under concurrency.
          UPDATE mailboxes
          SET used_bytes = used_bytes + ${size}, message_count = message_count + 1, updated_at = now()
          WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid AND status = 'active'
            AND used_bytes + ${size} <= quota_bytes AND EXISTS (SELECT 1 FROM target)
          RETURNING id
        ), uid AS (
          UPDATE folders SET uid_next = uid_next + 1
          WHERE tenant_id = ${tenantId}::uuid AND id = (SELECT id FROM target) AND EXISTS (SELECT 1 FROM counted)
          RETURNING id, uid_next - 1 AS uid
        ), message AS (
          INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, flags, envelope_from,
            envelope_to, remote_ip, helo_name, message_id_header, subject, from_address, from_name, to_addresses,
            sent_at, spam_score, auth_results, filter_trace, parse_status)
          SELECT ${tenantId}::uuid, ${mailboxId}::uuid, uid.id, ${sha256}, uid.uid, ${size}, ${copy.flags}::text[],
            ${req.envelopeFrom}, ${copy.envelopeTo}, ${req.remoteIp}, ${req.helo}, ${h.messageId}, ${h.subject},
            ${h.fromAddress}, ${h.fromName}, ${h.toAddresses}::text[], ${h.sentAt}::timestamptz,
            ${req.spamScore}::float8, ${JSON.stringify(req.authResults)}::jsonb,
            ${copy.filterTrace ? JSON.stringify(copy.filterTrace) : null}::jsonb, 'pending'
          FROM uid
          RETURNING id
        )
        SELECT (SELECT id::text FROM target) AS folder_id, (SELECT count(*) FROM counted)::int AS counted,
               (SELECT id::text FROM message) AS message_id`;
      if (row?.message_id) return row.message_id;
      if (row && row.folder_id !== null) {
        // Nothing was written: a full or disabled mailbox, or (if the mailbox was counted) the
        // folder deleted under us; either way the transaction rolls back.
        if (row.counted === 0) throw replies.quotaRace();
        throw replies.storeFailed();
      }
      // No folder of that kind yet (a mailbox made before its folders): create it, then again.
      name = await createSpecialFolder(tx, tenantId, mailboxId, kind);
    }
    throw replies.storeFailed();
  }

  private async queueVacation(tx: Tx, tenantId: string, plan: VacationPlan, req: StoreRequest, source?: string) {
    const bytes = req.vacationReplies.get(plan);
    if (!bytes) throw new Error('vacation reply was not composed');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await insertBlob(tx, tenantId, sha256, bytes);
    const now = new Date();
    await tx.vacationLog.upsert({
      where: { tenantId_mailboxId_sender: { tenantId, mailboxId: plan.mailboxId, sender: plan.to.toLowerCase() } },
      create: { tenantId, mailboxId: plan.mailboxId, sender: plan.to.toLowerCase(), lastSentAt: now },
      update: { lastSentAt: now },
    });
    const outbound = {
      kind: 'vacation' as const,
      mailboxId: plan.mailboxId,
      envelopeFrom: '', // RFC 3834 §3.3 / RFC 5230 §5.1: auto-replies go out with the null sender
      fromDomain: plan.fromDomain,
      sha256,
      size: bytes.length,
      header: { ...req.header, subject: plan.subject, messageId: null },
      sourceMessageId: source ?? null,
    };
    return queueOutbound(tx, tenantId, outbound, [plan.to]);
  }
}

export async function insertBlob(tx: Tx, tenantId: string, sha256: string, bytes: Buffer): Promise<void> {
  // Inserted and held FOR KEY SHARE until commit, so blob GC cannot take it from under us.
  await storeBlob(tx, { tenantId, sha256, bytes });
}

export async function checkTenantQuota(tx: Tx, tenantId: string, addedBytes = 0): Promise<void> {
  const [tenant] = await tx.$queryRaw<Array<{ quota: bigint }>>`
    SELECT storage_quota_bytes AS quota FROM tenants WHERE id = ${tenantId}::uuid`;
  const used = await tenantUsage.used(tx, tenantId);
  if (!tenant || used + BigInt(addedBytes) > tenant.quota) throw replies.quotaRace();
  tenantUsage.add(tenantId, addedBytes);
}

const SPECIAL_FOLDERS = { inbox: 'INBOX', junk: 'Junk', sent: 'Sent' } as const;

/** INBOX, Junk or Sent for a mailbox that has none yet. */
async function createSpecialFolder(
  tx: Tx,
  tenantId: string,
  mailboxId: string,
  kind: keyof typeof SPECIAL_FOLDERS,
): Promise<string> {
  const name = SPECIAL_FOLDERS[kind];
  await tx.folder.upsert({
    where: { tenantId_mailboxId_name: { tenantId, mailboxId, name } },
    create: { tenantId, mailboxId, name, kind },
    update: {},
    select: { id: true },
  });
  return name;
}

export interface OutboundRow {
  kind: 'forward' | 'vacation' | 'submission';
  mailboxId: string | null;
  envelopeFrom: string;
  fromDomain: string;
  sha256: string;
  size: number;
  header: HeaderSummary;
  sourceMessageId: string | null;
  /** RFC 3461 RET (FULL or HDRS) and ENVID (decoded) of the MAIL FROM this message came with. */
  dsnRet?: string | null;
  dsnEnvid?: string | null;
}

/** A recipient with its RFC 3461 NOTIFY tokens (upper case; empty: not given) and ORCPT. */
export interface OutboundRecipient {
  address: string;
  dsnNotify?: string[];
  dsnOrcpt?: string | null;
}

/** An outbox row and one queued delivery per recipient; the worker's sweeper sends them. */
export async function queueOutbound(
  tx: Tx,
  tenantId: string,
  row: OutboundRow,
  recipients: Array<string | OutboundRecipient>,
): Promise<{ id: string; deliveryIds: string[] }> {
  const outbound = await tx.outboundMessage.create({
    data: {
      tenantId,
      kind: row.kind,
      mailboxId: row.mailboxId,
      envelopeFrom: row.envelopeFrom,
      fromDomain: row.fromDomain,
      messageIdHeader: row.header.messageId,
      subject: row.header.subject,
      blobSha256: row.sha256,
      size: row.size,
      sourceMessageId: row.sourceMessageId,
      dsnRet: row.dsnRet ?? null,
      dsnEnvid: row.dsnEnvid ?? null,
    },
    select: { id: true },
  });
  const expiresAt = new Date(Date.now() + DELIVERY_LIFETIME_MS);
  const deliveries = await tx.delivery.createManyAndReturn({
    data: recipients.map((given) => {
      const rcpt = typeof given === 'string' ? { address: given } : given;
      return {
        tenantId,
        outboundMessageId: outbound.id,
        recipient: rcpt.address,
        recipientDomain: rcpt.address.slice(rcpt.address.lastIndexOf('@') + 1).toLowerCase(),
        status: 'queued' as const,
        expiresAt,
        dsnNotify: rcpt.dsnNotify ?? [],
        dsnOrcpt: rcpt.dsnOrcpt ?? null,
      };
    }),
    select: { id: true },
  });
  await tx.deliveryEvent.createMany({
    data: deliveries.map((d) => ({ tenantId, deliveryId: d.id, type: 'queued' as const })),
  });
  return { id: outbound.id, deliveryIds: deliveries.map((d) => d.id) };
}

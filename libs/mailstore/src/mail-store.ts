import { blobSize, type PrismaClient } from '@mailroom/db';
import { blobStore } from './blob-store';
import {
  blobSha256,
  checkTenantQuota,
  rowInput,
  sha256Of,
  specialFolder,
  storeCopy,
  storeGeneratedMessage,
} from './copy';
import { deleteMessages, trimExpunges, type RemovedMessage } from './expunge.repository';
import { MailboxReader } from './mailbox-reader';
import type { FlagUpdate } from './mailbox.types';
import { lockMailboxes, updateFlags, type FolderTarget, type MessageRowInput } from './message.repository';
import { insertCopies, isCopiesRefused, type CopyRow, type TenantCharge } from './deliver.repository';
import { blobGcCandidates, deleteUnreferencedBlobs, type BlobKey } from './blob.repository';
import { deleteUnreferencedObjectBlobs, objectBlobCandidates } from './blob-object.repository';
import {
  claimExpiredMessages,
  mailboxMessageIds,
  mailboxUsagePage,
  repairMailboxUsage,
  type ExpiryTarget,
} from './maintenance.repository';
import { queueOutbound } from './outbox.repository';
import { claimPendingParses, recordParseResult, type ParseResult } from './parse.repository';
import type {
  AppendRequest,
  EnvelopeDsn,
  HeaderSummary,
  OutboundRecipient,
  RecipientDsn,
  RelayGroup,
  CopyRequest,
  DeliverRequest,
  DeliverResult,
  GeneratedMessage,
  MailStoreOptions,
  StoreTx,
  StoredMessage,
  SubmitRequest,
  SubmitResult,
  TenantDelivery,
  VacationRequest,
} from './types';

const DEFAULT_LIFETIME_MS = 5 * 86_400_000;

/**
 * The one module that writes messages, folders' uids and modseqs, blobs, flags, quota and
 * usage. It holds the invariants every writer shares: the mailbox is active and has room
 * (checked by the same conditional update for every writer), uids grow per folder with
 * uid_next, every change takes the folder's next modseq, a blob is stored once per tenant and
 * content, and usage moves in the same transaction as the rows. It throws domain errors
 * (QuotaExceeded, MailboxUnavailable, FolderNotFound); each edge decides its reply.
 */
export class MailStore extends MailboxReader {
  private readonly lifetimeMs: number;
  private readonly forwardLifetimeMs: number;

  constructor(prisma: PrismaClient, options: MailStoreOptions = {}) {
    super(prisma, options);
    this.lifetimeMs = options.deliveryLifetimeMs ?? DEFAULT_LIFETIME_MS;
    this.forwardLifetimeMs = options.forwardLifetimeMs ?? DEFAULT_LIFETIME_MS;
  }

  /**
   * Commits one received message in one transaction: the blob once per tenant, one row per
   * mailbox copy, outbox rows for forwards and vacation replies. All of it or none of it.
   * Mailbox copies only (the common case) go in one statement; when that statement refuses
   * (a folder to create, a full mailbox, a lost deadlock: all rolled back) or there are
   * forwards or vacation replies, the step-by-step transaction does it and says why.
   */
  async deliver(request: DeliverRequest): Promise<DeliverResult> {
    const { bytes } = request;
    if (!Buffer.isBuffer(bytes)) {
      // A large message: its blob first, streamed in a transaction of its own (the delivery's
      // transaction only locks it), then the step-by-step delivery.
      const tenants = request.tenants.filter((t) => t.copies.length + t.forwards.length > 0).map((t) => t.tenantId);
      for (const tenantId of [...new Set(tenants)].sort()) await blobStore().upload(this.prisma, tenantId, bytes);
      return this.transaction((tx) => this.deliverIn(tx, request));
    }
    const copiesOnly = await this.deliverCopies(request);
    if (copiesOnly) return copiesOnly;
    return this.transaction((tx) => this.deliverIn(tx, request));
  }

  /** The one-statement delivery of {@link deliver}; null when it does not apply or refused. */
  private async deliverCopies(request: DeliverRequest): Promise<DeliverResult | null> {
    const bytes = request.bytes;
    // An object-stored body is put while its row is held, which this one statement cannot do.
    if (!Buffer.isBuffer(bytes) || blobStore().external(bytes.length)) return null;
    const plans = request.tenants.filter((t) => t.copies.length + t.forwards.length + t.vacations.length > 0);
    if (plans.length === 0 || plans.some((t) => t.forwards.length + t.vacations.length > 0)) return null;
    const tenants = [...plans].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    const copies: CopyRow[] = [];
    const mailboxes = new Set<string>();
    for (const plan of tenants) {
      const sorted = [...plan.copies].sort((a, b) => a.target.mailboxId.localeCompare(b.target.mailboxId));
      for (const copy of sorted) {
        const key = `${plan.tenantId}/${copy.target.mailboxId}`;
        if (mailboxes.has(key)) return null;
        mailboxes.add(key);
        copies.push({
          tenantId: plan.tenantId,
          mailboxId: copy.target.mailboxId,
          folder: folderOf(copy),
          flags: copy.flags,
          envelopeTo: copy.envelopeTo,
          filterTrace: copy.filterTrace ?? null,
        });
      }
    }
    const size = bytes.length;
    const charges: TenantCharge[] = [];
    for (const plan of tenants) {
      const usedBytes = await this.usage.used(this.prisma, plan.tenantId);
      charges.push({ tenantId: plan.tenantId, usedBytes, addedBytes: plan.copies.length * size });
    }
    let ids: Map<string, string>;
    try {
      ids = await insertCopies(this.prisma, bytes, sha256Of(bytes), request, copies, charges);
    } catch (err) {
      if (isCopiesRefused(err)) return null;
      throw err;
    }
    for (const charge of charges) this.usage.add(charge.tenantId, charge.addedBytes);
    return { messageIds: copies.map((c) => ids.get(c.mailboxId)!), outboundIds: [], deliveries: [] };
  }

  /** The same, inside a caller's transaction. Tenants in id order, mailboxes in id order. */
  async deliverIn(tx: StoreTx, request: DeliverRequest): Promise<DeliverResult> {
    const sha256 = blobSha256(request.bytes);
    const result: DeliverResult = { messageIds: [], outboundIds: [], deliveries: [] };
    const tenants = [...request.tenants].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    for (const plan of tenants) await this.deliverTenant(tx, plan, request, sha256, result);
    return result;
  }

  /**
   * A submitted message in one transaction: the blob, the copy in the sender's Sent folder, an
   * outbound message with a queued delivery per external recipient, and the hosted recipients'
   * copies exactly as inbound stores them. The sender's and every local recipient's mailbox are
   * locked first in the common order, so crossing messages never deadlock.
   */
  submit(req: SubmitRequest): Promise<SubmitResult> {
    return this.transaction(async (tx) => {
      const pairs: Array<[string, string]> = [[req.tenantId, req.mailboxId]];
      for (const plan of req.local?.tenants ?? []) {
        for (const copy of plan.copies) pairs.push([plan.tenantId, copy.target.mailboxId]);
      }
      await lockMailboxes(tx, pairs);
      const sha256 = sha256Of(req.bytes);
      await blobStore().keep(tx, { tenantId: req.tenantId, sha256, bytes: req.bytes });
      const sent = await storeCopy(tx, req.tenantId, req.mailboxId, specialFolder('sent'), {
        ...rowInput(req.bytes, sha256),
        flags: ['\\Seen'],
        envelopeFrom: req.envelopeFrom,
        envelopeTo: req.allRecipients.join(', ').slice(0, 998),
        remoteIp: req.remoteIp,
        helo: req.helo,
        header: req.header,
        authResults: { submission: { login: req.login } },
      });
      await checkTenantQuota(this.usage, tx, req.tenantId, req.bytes.length);
      const deliveries: SubmitResult['deliveries'] = [];
      let outboundId: string | null = null;
      if (req.external.length > 0) {
        const queued = await queueOutbound(
          tx,
          req.tenantId,
          {
            kind: 'submission',
            mailboxId: req.mailboxId,
            envelopeFrom: req.envelopeFrom,
            fromDomain: req.fromDomain,
            sha256,
            size: req.bytes.length,
            header: req.header,
            sourceMessageId: null,
            dsn: req.dsn,
          },
          req.external,
          this.lifetimeMs,
        );
        outboundId = queued.id;
        deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId: req.tenantId, deliveryId })));
      }
      if (req.local) deliveries.push(...(await this.deliverIn(tx, req.local)).deliveries);
      return { sentMessageId: sent.id, outboundId, deliveries };
    });
  }

  /**
   * A message we generated (a DSN) into one of a mailbox's special folders, in the caller's
   * transaction, under the same quota and status rules as received mail.
   */
  storeGenerated(tx: StoreTx, m: GeneratedMessage): Promise<StoredMessage> {
    return storeGeneratedMessage(tx, m, this.usage);
  }

  /** IMAP APPEND: a message a client uploads into a folder, with its flags and date. */
  append(req: AppendRequest): Promise<StoredMessage> {
    return this.transaction(async (tx) => {
      await lockMailboxes(tx, [[req.tenantId, req.mailboxId]]);
      const sha256 = sha256Of(req.raw);
      await blobStore().keep(tx, { tenantId: req.tenantId, sha256, bytes: req.raw });
      const stored = await storeCopy(
        tx,
        req.tenantId,
        req.mailboxId,
        { folderId: req.folderId, name: null, kind: 'custom' },
        {
          ...rowInput(req.raw, sha256),
          flags: req.flags,
          receivedAt: req.receivedAt,
          header: req.header,
        },
      );
      await checkTenantQuota(this.usage, tx, req.tenantId, req.raw.length);
      return stored;
    });
  }

  /**
   * Bounces to SRS addresses, queued to the original senders of the forwards they answer: one
   * outbound 'forward' message per group, with the null sender (a bounce is never answered by
   * another bounce, RFC 5321 section 4.5.5), all in one transaction.
   */
  relayBounces(bytes: Buffer, header: HeaderSummary, dsn: EnvelopeDsn | null, groups: RelayGroup[]) {
    const sha256 = sha256Of(bytes);
    return this.transaction(async (tx) => {
      const out: DeliverResult = { messageIds: [], outboundIds: [], deliveries: [] };
      for (const group of groups) {
        await blobStore().keep(tx, { tenantId: group.tenantId, sha256, bytes });
        const row = {
          kind: 'forward' as const,
          mailboxId: null,
          envelopeFrom: '',
          fromDomain: group.fromDomain,
          sha256,
          size: bytes.length,
          header,
          sourceMessageId: null,
          dsn,
        };
        const queued = await queueOutbound(tx, group.tenantId, row, group.recipients, this.forwardLifetimeMs);
        this.collect(out, group.tenantId, queued);
      }
      return out.deliveries;
    });
  }

  /**
   * STORE: flags of messages in a folder by uid; each changed message gets a new modseq. With
   * `unchangedSince` (CONDSTORE), messages modified after it are left alone and listed in `failed`.
   */
  setFlags(
    tenantId: string,
    folderId: string,
    uids: number[],
    op: 'set' | 'add' | 'remove',
    flags: string[],
    unchangedSince?: bigint,
  ): Promise<FlagUpdate> {
    return this.transaction((tx) => updateFlags(tx, tenantId, folderId, uids, op, flags, unchangedSince));
  }

  /**
   * Removes messages (retention, purge, EXPUNGE) in the caller's transaction: deleted and taken off
   * usage, or hidden under legal hold; expunge-logged and notified either way.
   */
  remove(tx: StoreTx, tenantId: string, ids: string[]): Promise<RemovedMessage[]> {
    return deleteMessages(tx, tenantId, ids);
  }

  /** Retention: expired messages of the targets, claimed (SKIP LOCKED) for `remove`. */
  claimExpired(tx: StoreTx, tenantId: string, targets: ExpiryTarget[], limit: number) {
    return claimExpiredMessages(tx, tenantId, targets, limit);
  }

  /** Purge: the next `limit` messages of a mailbox the caller holds locked, removed as `remove` does. */
  async removeFromMailbox(tx: StoreTx, tenantId: string, mailboxId: string, limit: number) {
    return deleteMessages(tx, tenantId, await mailboxMessageIds(tx, tenantId, mailboxId, limit));
  }

  /** Quota recount: usage counters beside the sums of the rows, read without locks. */
  usagePage(after: { tenantId: string; mailboxId: string }, limit: number) {
    return mailboxUsagePage(this.prisma, after, limit);
  }

  /** Quota recount: sets a mailbox's usage to its sums under the mailbox lock; returns the drift. */
  repairUsage(tenantId: string, mailboxId: string) {
    return this.transaction((tx) => repairMailboxUsage(tx, tenantId, mailboxId));
  }

  /**
   * History cleanup: expunge-log rows older than `before`, `limit` at a time, until none are
   * left; folders remember what was trimmed (FolderChanges.complete). Returns how many went.
   */
  async trimExpungeLog(before: Date, limit = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await trimExpunges(this.prisma, before, limit);
      total += n;
      if (n < limit) return total;
    }
  }

  /** Blob GC: the next database-stored blobs older than `cutoff`. */
  blobCandidates(cutoff: Date, after: BlobKey, limit: number) {
    return blobGcCandidates(this.prisma, cutoff, after, limit);
  }

  /** Blob GC: deletes the unreferenced blobs among `keys` (SKIP LOCKED); returns their sizes. */
  deleteUnreferencedBlobs(keys: BlobKey[], cutoff: Date) {
    return deleteUnreferencedBlobs(this.prisma, keys, cutoff);
  }

  /** Blob GC: the next object-stored (S3) blobs older than `cutoff`. */
  objectBlobCandidates(cutoff: Date, after: BlobKey, limit: number) {
    return objectBlobCandidates(this.prisma, cutoff, after, limit);
  }

  /**
   * Blob GC for object-stored blobs: in one transaction, the unreferenced rows among `keys` are
   * deleted (SKIP LOCKED), then their objects, then it commits. An object whose row was not
   * deleted (referenced, locked by a writer, or the statement failed) is never touched. If an
   * object delete fails, the transaction rolls back and every row stays (objects already deleted
   * in this step leave rows that nothing refers to: writers lock a row before they put its object
   * again, so the next writer of that body restores it, and the next GC run deletes them).
   * Returns the sizes freed.
   */
  deleteUnreferencedObjectBlobs(keys: BlobKey[], cutoff: Date): Promise<number[]> {
    const store = blobStore();
    if (!store.objects) throw new Error('blob GC of S3 blobs needs an object store (S3_BUCKET)');
    const objects = store.objects;
    return this.transaction(async (tx) => {
      const rows = await deleteUnreferencedObjectBlobs(tx, keys, cutoff);
      for (const r of rows) await objects.delete(r.storage_key);
      return rows.map((r) => r.size);
    });
  }

  /** Parsing: messages still pending, claimed (SKIP LOCKED) in the caller's transaction. */
  claimPendingParses(tx: StoreTx, limit: number, maxBytes: number) {
    return claimPendingParses(tx, limit, maxBytes);
  }

  /** Parsing: the result on the row; no new modseq (see recordParseResult). */
  recordParse(tx: StoreTx, tenantId: string, id: string, result: ParseResult) {
    return recordParseResult(tx, tenantId, id, result);
  }

  private async deliverTenant(
    tx: StoreTx,
    plan: TenantDelivery,
    req: DeliverRequest,
    sha256: string,
    out: DeliverResult,
  ) {
    const { tenantId } = plan;
    if (plan.copies.length + plan.forwards.length > 0) {
      await blobStore().keep(tx, { tenantId, sha256, bytes: req.bytes });
    }
    const copies = [...plan.copies].sort((a, b) => a.target.mailboxId.localeCompare(b.target.mailboxId));
    const stored = new Map<string, string>();
    for (const copy of copies) {
      const { id } = await storeCopy(tx, tenantId, copy.target.mailboxId, folderOf(copy), copyInput(req, sha256, copy));
      stored.set(copy.target.mailboxId, id);
      out.messageIds.push(id);
    }
    if (copies.length > 0) await checkTenantQuota(this.usage, tx, tenantId, copies.length * blobSize(req.bytes));
    for (const forward of plan.forwards) {
      const row = {
        kind: 'forward' as const,
        mailboxId: forward.mailboxId,
        envelopeFrom: req.forwardSender,
        fromDomain: forward.fromDomain,
        sha256,
        size: blobSize(req.bytes),
        header: req.header,
        sourceMessageId: forward.mailboxId ? (stored.get(forward.mailboxId) ?? null) : null,
        dsn: req.dsn ?? null,
      };
      const recipients = forward.recipients.map((r) => withDsn(r, forward.dsn));
      this.collect(out, tenantId, await queueOutbound(tx, tenantId, row, recipients, this.forwardLifetimeMs));
    }
    for (const vacation of plan.vacations) {
      const queued = await this.queueVacation(tx, tenantId, vacation, req, stored.get(vacation.mailboxId));
      this.collect(out, tenantId, queued);
    }
  }

  private collect(out: DeliverResult, tenantId: string, queued: { id: string; deliveryIds: string[] }) {
    out.outboundIds.push(queued.id);
    out.deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId, deliveryId })));
  }

  private async queueVacation(
    tx: StoreTx,
    tenantId: string,
    plan: VacationRequest,
    req: DeliverRequest,
    source?: string,
  ) {
    const bytes = req.vacationReplies.get(plan);
    if (!bytes) throw new Error('vacation reply was not composed');
    const sha256 = sha256Of(bytes);
    await blobStore().keep(tx, { tenantId, sha256, bytes });
    const now = new Date();
    await tx.vacationLog.upsert({
      where: { tenantId_mailboxId_sender: { tenantId, mailboxId: plan.mailboxId, sender: plan.to.toLowerCase() } },
      create: { tenantId, mailboxId: plan.mailboxId, sender: plan.to.toLowerCase(), lastSentAt: now },
      update: { lastSentAt: now },
    });
    const row = {
      kind: 'vacation' as const,
      mailboxId: plan.mailboxId,
      envelopeFrom: '', // RFC 3834 §3.3 / RFC 5230 §5.1: auto-replies go out with the null sender
      fromDomain: plan.fromDomain,
      sha256,
      size: bytes.length,
      header: { subject: plan.subject, messageId: null },
      sourceMessageId: source ?? null,
    };
    return queueOutbound(tx, tenantId, row, [plan.to], this.forwardLifetimeMs);
  }
}

/** A filter's fileinto names a folder; a name that does not exist falls back to the Inbox. */
function folderOf(copy: CopyRequest): FolderTarget {
  if (copy.folder.kind === 'named') return { folderId: null, name: copy.folder.name, kind: 'inbox' };
  return specialFolder(copy.folder.kind);
}

function copyInput(req: DeliverRequest, sha256: string, copy: CopyRequest): MessageRowInput {
  return {
    ...rowInput(req.bytes, sha256),
    flags: copy.flags,
    envelopeFrom: req.envelopeFrom,
    envelopeTo: copy.envelopeTo,
    remoteIp: req.remoteIp,
    helo: req.helo,
    header: req.header,
    spamScore: req.spamScore,
    authResults: req.authResults,
    filterTrace: copy.filterTrace ?? null,
  };
}

/** A forward's recipient with the DSN request of the recipient that reached the forward. */
function withDsn(r: OutboundRecipient, dsn: RecipientDsn | null | undefined): OutboundRecipient {
  if (typeof r !== 'string' || !dsn) return r;
  return { address: r, notify: dsn.notify, orcpt: dsn.orcpt };
}

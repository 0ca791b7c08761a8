import { createHash } from 'node:crypto';
import type { PrismaClient } from '@mailroom/db';
import {
  checkTenantQuota,
  insertBlob,
  queueOutbound,
  type HeaderSummary,
  type MessageStore,
  type OutboundRecipient,
  type StoreRequest,
} from '../inbound/message-store';
import { isSmtpReply } from '../core/smtp-reply';
import type { SubmissionUser } from './mailbox-authenticator';
import { submissionReplies } from './submission-replies';

export interface SubmissionStoreRequest {
  user: SubmissionUser;
  /** The message as it leaves: our Received (and Date, Message-ID when missing), then the data. */
  bytes: Buffer;
  envelopeFrom: string;
  /** The domain of the From header: the worker signs with its DKIM key (DMARC aligns on it). */
  fromDomain: string;
  header: HeaderSummary;
  remoteIp: string;
  helo: string | null;
  /** Recipients in domains we do not host: one queued delivery each, with NOTIFY and ORCPT. */
  external: OutboundRecipient[];
  /** RET and ENVID of MAIL FROM (RFC 3461). */
  dsn: { ret: string | null; envid: string | null };
  /** Every recipient, for the Sent copy's envelope. */
  allRecipients: string[];
  /** Hosted recipients, planned as the inbound MX plans them; stored with `localBytes`. */
  local: { request: StoreRequest } | null;
}

export interface SubmissionStoreResult {
  sentMessageId: string;
  outboundId: string | null;
  /** Deliveries queued: one per external recipient, plus forwards and vacation replies. */
  deliveries: Array<{ tenantId: string; deliveryId: string }>;
}

type Tx = Parameters<MessageStore['storeIn']>[0];

// A 50 MB insert over a slow link takes a while; the default of 5 s would abort it.
const TX_TIMEOUT_MS = 120_000;

/**
 * Commits one submitted message in one transaction: the blob, the copy in the sender's Sent
 * folder, an outbound message with one queued delivery per external recipient, and the local
 * copies of hosted recipients exactly as the inbound MX stores them (filters, vacation,
 * forwards). Either all of it is there or none of it; 250 is answered after this returns.
 */
export class SubmissionStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly messages: MessageStore,
  ) {}

  async store(req: SubmissionStoreRequest): Promise<SubmissionStoreResult> {
    const { tenantId, mailboxId } = req.user;
    const sha256 = createHash('sha256').update(req.bytes).digest('hex');
    return this.prisma.$transaction(
      async (tx) => {
        await lockMailboxes(tx, req);
        await insertBlob(tx, tenantId, sha256, req.bytes);
        const sentMessageId = await this.storeSentCopy(tx, req, sha256);
        const deliveries: SubmissionStoreResult['deliveries'] = [];
        let outboundId: string | null = null;
        if (req.external.length > 0) {
          const queued = await queueOutbound(
            tx,
            tenantId,
            {
              kind: 'submission',
              mailboxId,
              envelopeFrom: req.envelopeFrom,
              fromDomain: req.fromDomain,
              sha256,
              size: req.bytes.length,
              header: req.header,
              sourceMessageId: null,
              dsnRet: req.dsn.ret,
              dsnEnvid: req.dsn.envid,
            },
            req.external,
          );
          outboundId = queued.id;
          deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId, deliveryId })));
        }
        if (req.local) {
          const local = await this.messages.storeIn(tx, req.local.request);
          deliveries.push(...local.deliveries);
        }
        return { sentMessageId, outboundId, deliveries };
      },
      { timeout: TX_TIMEOUT_MS, maxWait: 10_000 },
    );
  }

  private async storeSentCopy(tx: Tx, req: SubmissionStoreRequest, sha256: string): Promise<string> {
    const { user } = req;
    const sent: StoreRequest = {
      bytes: req.bytes,
      envelopeFrom: req.envelopeFrom,
      forwardSender: req.envelopeFrom,
      remoteIp: req.remoteIp,
      helo: req.helo,
      header: req.header,
      spamScore: null,
      authResults: { submission: { login: user.login } },
      tenants: [],
      vacationReplies: new Map(),
    };
    const target = {
      tenantId: user.tenantId,
      mailboxId: user.mailboxId,
      address: user.address,
      domainName: user.domainName,
      quotaBytes: user.quotaBytes,
      usedBytes: user.usedBytes,
      spamJunkThreshold: null,
    };
    const copy = {
      target,
      envelopeTo: req.allRecipients.join(', ').slice(0, 998),
      folder: { kind: 'sent' as const },
      flags: ['\\Seen'],
      filterTrace: null,
    };
    try {
      const id = await this.messages.storeCopy(tx, user.tenantId, copy, sent, sha256);
      await checkTenantQuota(tx, user.tenantId, sent.bytes.length);
      return id;
    } catch (err) {
      // The store's quota race reply speaks of a recipient's mailbox; here it is the sender's.
      if (isSmtpReply(err) && err.responseCode === 452) throw submissionReplies.sentFolderFull();
      throw err;
    }
  }
}

/**
 * Locks the sender's mailbox and every local recipient's up front, in the order the inbound
 * store locks them (tenant, then mailbox id), so a message from A to B and one from B to A, or
 * an inbound message to both, never wait on each other in a cycle.
 */
async function lockMailboxes(tx: Tx, req: SubmissionStoreRequest): Promise<void> {
  const pairs = new Map<string, [string, string]>();
  const add = (tenantId: string, mailboxId: string) => pairs.set(`${tenantId}/${mailboxId}`, [tenantId, mailboxId]);
  add(req.user.tenantId, req.user.mailboxId);
  for (const plan of req.local?.request.tenants ?? []) {
    for (const copy of plan.copies) add(plan.tenantId, copy.target.mailboxId);
  }
  const ordered = [...pairs.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  for (const [tenantId, mailboxId] of ordered) {
    await tx.$queryRaw`SELECT 1 FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid FOR UPDATE`;
  }
}

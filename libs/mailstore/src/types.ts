import type { TenantUsage } from './tenant-usage';
import type { FolderKind, Prisma, PrismaClient, StreamedBlob } from '@mailroom/db';
import type { SortKeys } from '@mailroom/rules';

/** A transaction of the mail store; callers that join one pass it on unchanged. */
export type StoreTx = Prisma.TransactionClient;

/** A single statement's connection: the client itself, or a transaction. */
export type StoreDb = StoreTx | PrismaClient;

export interface HeaderSummary {
  messageId: string | null;
  subject: string | null;
  fromAddress: string | null;
  fromName: string | null;
  toAddresses: string[];
  sentAt: Date | null;
  /** IMAP SORT/THREAD keys; null: computed from the stored header at the first SORT or THREAD. */
  sortKeys: SortKeys | null;
}

/** Where a copy goes: a special folder, or a folder by name (falls back to the Inbox). */
export type FolderChoice = { kind: 'inbox' } | { kind: 'junk' } | { kind: 'sent' } | { kind: 'named'; name: string };

/** One stored copy: a mailbox reached by one or more recipients gets exactly one. */
export interface CopyRequest {
  target: { mailboxId: string };
  envelopeTo: string;
  folder: FolderChoice;
  flags: string[];
  filterTrace: unknown;
}

/** RFC 3461 parameters of one recipient: NOTIFY tokens (empty when not given) and ORCPT. */
export interface RecipientDsn {
  notify: string[];
  orcpt: string | null;
}

/** A recipient of an outbound message, with its DSN request when the sender made one. */
export type OutboundRecipient = string | ({ address: string } & RecipientDsn);

/** RFC 3461 parameters of MAIL FROM: what a DSN returns (FULL or HDRS) and the envelope id. */
export interface EnvelopeDsn {
  ret: string | null;
  envid: string | null;
}

export interface ForwardRequest {
  mailboxId: string | null;
  /** Our domain the forward leaves from (its DKIM key signs it). */
  fromDomain: string;
  recipients: OutboundRecipient[];
  /** The NOTIFY and ORCPT the recipient that reached this forward came with. */
  dsn?: RecipientDsn | null;
}

/** Bounces to SRS addresses of one tenant's forwards, relayed to the original senders. */
export interface RelayGroup {
  tenantId: string;
  /** The hosted domain the forward left from: the relayed bounce is signed with its key. */
  fromDomain: string;
  recipients: OutboundRecipient[];
}

export interface VacationRequest {
  mailboxId: string;
  fromDomain: string;
  to: string;
  subject: string;
}

/** What one tenant receives of a message: copies, forwards and vacation replies. */
export interface TenantDelivery {
  tenantId: string;
  copies: CopyRequest[];
  forwards: ForwardRequest[];
  vacations: VacationRequest[];
}

export interface DeliverRequest {
  /**
   * The message as stored: our trace headers, then the bytes as received. A large message is
   * streamed (read in chunks from the MTA's spool file), never held whole.
   */
  bytes: Buffer | StreamedBlob;
  envelopeFrom: string;
  /** Envelope sender of forwards: SRS-rewritten, '' for the null sender. */
  forwardSender: string;
  /** The sender's DSN request, passed on to forwards. */
  dsn?: EnvelopeDsn | null;
  remoteIp: string | null;
  helo: string | null;
  header: HeaderSummary;
  spamScore: number | null;
  authResults: Prisma.InputJsonValue;
  tenants: TenantDelivery[];
  /** The composed auto-reply of each vacation request. */
  vacationReplies: Map<VacationRequest, Buffer>;
}

export interface QueuedDelivery {
  tenantId: string;
  deliveryId: string;
}

export interface DeliverResult {
  messageIds: string[];
  outboundIds: string[];
  /** Deliveries queued for forwards and vacation replies: the caller enqueues them after commit. */
  deliveries: QueuedDelivery[];
}

export interface OutboundRow {
  kind: 'forward' | 'vacation' | 'submission' | 'dsn';
  mailboxId: string | null;
  envelopeFrom: string;
  fromDomain: string;
  sha256: string;
  size: number;
  header: Pick<HeaderSummary, 'messageId' | 'subject'>;
  sourceMessageId: string | null;
  dsn?: EnvelopeDsn | null;
}

/** A message we generate (a DSN) for one of a mailbox's special folders. */
export interface GeneratedMessage {
  tenantId: string;
  mailboxId: string;
  folderKind: FolderKind;
  raw: Buffer;
  envelopeFrom: string;
  envelopeTo: string;
  subject: string | null;
  fromAddress: string;
  messageId: string | null;
}

export interface StoredMessage {
  id: string;
  folderId: string;
  uid: number;
  modseq: bigint;
}

export interface MailStoreOptions {
  /** How long submitted mail is retried before it bounces (DELIVERY_MAX_AGE_HOURS). */
  deliveryLifetimeMs?: number;
  /** How long forwards and vacation replies are retried (FORWARD_DELIVERY_MAX_AGE_HOURS). */
  forwardLifetimeMs?: number;
  /** The per-process tenant usage cache (shared with the MTA's RCPT checks). */
  usage?: TenantUsage;
}

export interface SubmitRequest {
  tenantId: string;
  /** The sender's mailbox: its Sent folder gets a copy. */
  mailboxId: string;
  login: string;
  /** The message as it leaves: our Received (and Date, Message-ID when missing), then the data. */
  bytes: Buffer;
  envelopeFrom: string;
  /** The domain of the From header: the worker signs with its DKIM key. */
  fromDomain: string;
  header: HeaderSummary;
  remoteIp: string;
  helo: string | null;
  dsn: EnvelopeDsn | null;
  /** Recipients in domains we do not host: one queued delivery each. */
  external: OutboundRecipient[];
  /** Every recipient, for the Sent copy's envelope. */
  allRecipients: string[];
  /** Hosted recipients, planned as the inbound MX plans them. */
  local: DeliverRequest | null;
}

export interface SubmitResult {
  sentMessageId: string;
  outboundId: string | null;
  deliveries: DeliverResult['deliveries'];
}

export interface AppendRequest {
  tenantId: string;
  mailboxId: string;
  folderId: string;
  raw: Buffer;
  flags: string[];
  /** INTERNALDATE; now when not given. */
  receivedAt: Date | null;
  header: HeaderSummary;
}

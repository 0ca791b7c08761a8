import type { OutboundKind } from '@mailroom/db';
import type { RecipientReply } from '@mailroom/delivery';

/** A delivery claimed for one attempt (status 'sending', attempts already counted). */
export interface Claimed {
  id: string;
  recipient: string;
  attempts: number;
  expiresAt: Date;
  /** RFC 3461 NOTIFY tokens; empty when not given. */
  dsnNotify: string[];
  dsnOrcpt: string | null;
  /** A DSN (a delay notice) was already sent for it. */
  dsnSent: boolean;
}

/** The outbound message a batch of deliveries carries, with its bytes. */
export interface OutboundForDelivery {
  tenantId: string;
  id: string;
  kind: OutboundKind;
  mailboxId: string | null;
  envelopeFrom: string;
  fromDomain: string;
  messageIdHeader: string | null;
  subject: string | null;
  createdAt: Date;
  dsnRet: string | null;
  dsnEnvid: string | null;
  bytes: Buffer;
}

/** What one SMTP attempt got for some recipients of a batch. */
export interface Attempt {
  replies: RecipientReply[];
  host: string | null;
  ip: string | null;
  durationMs: number;
  /** The next hop took our DSN parameters (it reports delivery from here on). */
  dsnPassedOn: boolean;
}

export interface DeliveryResult {
  claimed: number;
  delivered: number;
  deferred: number;
  bounced: number;
  webhookDeliveryIds: string[];
  /** Deferred deliveries: when each is due again, and after how many attempts. */
  retries: { deliveryId: string; attempt: number; at: Date }[];
  /** Deliveries this outcome queued (DSNs to remote senders): their jobs are queued after commit. */
  queued: string[];
}

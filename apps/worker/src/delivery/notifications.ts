import type { Config } from '@mailroom/config';
import type { Tx } from '@mailroom/db';
import { buildDsn, dsnSubject, type DsnAction, type DsnRecipient } from '@mailroom/delivery';
import { srsReverse, srsSecret } from '@mailroom/mail';
import type { OutboundForDelivery } from './delivery.types';
import { storeGeneratedMessage } from './local-store';
import { OutcomeRepository } from './outcome.repository';

/** One recipient's line in a DSN, and the delivery it is about. */
export interface Notice extends DsnRecipient {
  deliveryId: string;
}

/** Where a message's DSNs go: the sender's own Inbox, or an outbound delivery to a remote sender. */
export type DsnTarget = { kind: 'mailbox'; mailboxId: string; address: string } | { kind: 'remote'; address: string };

/**
 * Who gets the DSNs of a message. Mail a local user submitted: their Inbox. A forward: its
 * original sender, from the SRS0 envelope sender (a forward of a null-sender message has none).
 * A DSN or a vacation reply never gets one (null sender, RFC 3834, and no backscatter).
 */
export function dsnTarget(config: Config, message: OutboundForDelivery): DsnTarget | null {
  if (message.envelopeFrom === '') return null;
  if (message.kind === 'submission' && message.mailboxId) {
    return { kind: 'mailbox', mailboxId: message.mailboxId, address: message.envelopeFrom };
  }
  if (message.kind === 'forward') {
    const original = srsReverse(message.envelopeFrom, srsSecret(config.MASTER_KEY));
    return original ? { kind: 'remote', address: original } : null;
  }
  return null;
}

/**
 * Sends one DSN per action (failed, delayed, relayed) for `notices`, in the caller's transaction,
 * and marks their deliveries. Returns the deliveries queued for remote senders.
 */
export async function sendNotifications(
  tx: Tx,
  config: Config,
  message: OutboundForDelivery,
  notices: Notice[],
): Promise<string[]> {
  const target = notices.length > 0 ? dsnTarget(config, message) : null;
  if (!target) return [];
  const repo = new OutcomeRepository(tx);
  const bounceDomain = config.BOUNCE_DOMAIN ?? config.MX_HOSTNAME;
  const queued: string[] = [];
  for (const action of ['failed', 'delayed', 'relayed'] as DsnAction[]) {
    const group = notices.filter((n) => n.action === action);
    if (group.length === 0) continue;
    const dsn = await buildDsn({
      reportingMta: config.MX_HOSTNAME,
      to: target.address,
      from: `MAILER-DAEMON@${bounceDomain}`,
      original: message.bytes,
      ret: message.dsnRet === 'FULL' ? 'FULL' : 'HDRS',
      envelopeId: message.dsnEnvid,
      originalMessageId: message.messageIdHeader,
      originalSubject: message.subject,
      arrivalDate: message.createdAt,
      recipients: group.map(({ deliveryId: _id, ...recipient }) => recipient),
    });
    const subject = dsnSubject(action, message.subject);
    if (target.kind === 'mailbox') {
      const stored = await storeGeneratedMessage(
        tx,
        { tenantId: message.tenantId, mailboxId: target.mailboxId, folderKind: 'inbox' },
        dsn,
        { envelopeFrom: '', envelopeTo: target.address, subject, fromAddress: 'MAILER-DAEMON', messageId: null },
      );
      if (!stored) continue;
    } else {
      queued.push(
        await repo.queueDsn(message.tenantId, {
          to: target.address,
          bytes: dsn,
          fromDomain: bounceDomain,
          subject,
          expiresAt: new Date(Date.now() + config.DELIVERY_MAX_AGE_HOURS * 3_600_000),
        }),
      );
    }
    await repo.markDsnSent(
      message.tenantId,
      group.map((n) => n.deliveryId),
      `${action} DSN to ${target.address}`,
    );
  }
  return queued;
}

import fs from 'node:fs';
import type { Logger } from 'pino';
import { inTransaction, type Db } from '@mailroom/db';
import { BounceRepository } from '@mailroom/delivery';
import { parseDsnReport, type DsnReport } from '@mailroom/smtp';
import type { SpooledMessage } from '../core/message-spool';
import type { BounceRecipient } from '../core/recipient-resolver';

// The delivery-status part comes right after the human-readable text; the returned original
// message follows it and is of no interest here.
const DSN_READ_BYTES = 256 * 1024;

/**
 * DSNs for our own outbound mail, sent back to `bounces+<delivery>.<tenant>@BOUNCE_DOMAIN`
 * (libs/mail verp.ts). A permanent failure is recorded as the worker records a refusal
 * (libs/delivery BounceRepository: delivery bounced, events, suppression, webhook event); a
 * delay or a success is recorded as an event. Nothing of it lands in a mailbox, and nothing is answered with a
 * bounce (the sender of a DSN is the null sender).
 */
export class DsnHandler {
  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  async handle(recipients: BounceRecipient[], message: SpooledMessage): Promise<void> {
    const report = parseDsnReport(await readHead(message));
    for (const recipient of recipients) {
      if (!report) {
        this.logger.info({ rcpt: recipient.address }, 'message to a bounce address is not a DSN; dropped');
        continue;
      }
      await this.apply(recipient, report);
    }
  }

  private async apply(recipient: BounceRecipient, report: DsnReport): Promise<void> {
    const { tenantId, deliveryId } = recipient;
    const response = (report.diagnostic ?? `${report.status} (${report.action ?? 'no action'})`).slice(0, 2000);
    await inTransaction(this.db, async (tx) => {
      const bounces = new BounceRepository(tx);
      if (report.statusClass === 5) {
        // A cancelled delivery stays cancelled; one already bounced is not recorded again.
        await bounces.record(tenantId, {
          deliveryId,
          from: { statuses: ['queued', 'sending', 'deferred', 'delivered'] },
          response,
          smtpCode: report.smtpCode ?? 550,
          enhancedCode: report.status,
          hard: true,
        });
        return;
      }
      await bounces.recordRemoteReport(tenantId, {
        deliveryId,
        type: report.statusClass === 4 ? 'deferred' : 'delivered',
        smtpCode: report.smtpCode ?? null,
        enhancedCode: report.status,
        response,
      });
    });
  }
}

async function readHead(message: SpooledMessage): Promise<string> {
  if (message.bytes) return message.bytes.subarray(0, DSN_READ_BYTES).toString('utf8');
  const handle = await fs.promises.open(message.path!, 'r');
  try {
    const buffer = Buffer.alloc(DSN_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, DSN_READ_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

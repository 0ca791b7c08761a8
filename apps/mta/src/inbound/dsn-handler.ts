import fs from 'node:fs';
import type { Logger } from 'pino';
import type { PrismaClient } from '@mailroom/db';
import { parseDsnReport, type DsnReport } from '@mailroom/smtp';
import type { BounceRecipient } from '../core/recipient-resolver';

// The delivery-status part comes right after the human-readable text; the returned original
// message follows it and is of no interest here.
const DSN_READ_BYTES = 256 * 1024;

/**
 * DSNs for our own outbound mail, sent back to `bounces+<delivery>.<tenant>@BOUNCE_DOMAIN`
 * (libs/mail verp.ts). A permanent failure marks the delivery bounced (compare-and-set: a
 * cancelled delivery stays cancelled), records the event and suppresses the address; a delay
 * is recorded as an event. Nothing of it lands in a mailbox, and nothing is answered with a
 * bounce (the sender of a DSN is the null sender).
 */
export class DsnHandler {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  async handle(recipients: BounceRecipient[], file: string): Promise<void> {
    const report = parseDsnReport(await readHead(file));
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
    await this.prisma.$transaction(async (tx) => {
      const delivery = await tx.delivery.findUnique({
        where: { tenantId_id: { tenantId, id: deliveryId } },
        select: { recipient: true },
      });
      if (!delivery) return;
      const failed = report.statusClass === 5;
      if (failed) {
        await tx.delivery.updateMany({
          where: { tenantId, id: deliveryId, status: { in: ['queued', 'sending', 'deferred', 'delivered'] } },
          data: { status: 'bounced', lastResponse: response, lastResponseCode: report.smtpCode ?? 550 },
        });
        const address = delivery.recipient.toLowerCase();
        await tx.suppression.upsert({
          where: { tenantId_address: { tenantId, address } },
          create: { tenantId, address, reason: 'hard_bounce', detail: response },
          update: {},
        });
      }
      await tx.deliveryEvent.create({
        data: {
          tenantId,
          deliveryId,
          type: failed ? 'bounced' : report.statusClass === 4 ? 'deferred' : 'delivered',
          smtpCode: report.smtpCode,
          enhancedCode: report.status,
          response,
        },
      });
    });
  }
}

async function readHead(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(DSN_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, DSN_READ_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

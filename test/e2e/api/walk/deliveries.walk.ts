import { createHash } from 'node:crypto';
import type { WalkModule } from './walk.types';

/** Deliveries (log, retry, cancel, trace) and suppressions. */
export const walk: WalkModule = {
  async setup(ctx) {
    const tenantId = ctx.victim.id;
    const raw = Buffer.from('From: a@victim.example\r\nSubject: secret plans\r\n\r\nbody\r\n');
    const sha256 = createHash('sha256').update(raw).digest('hex');
    await ctx.db.prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
    const message = await ctx.db.prisma.outboundMessage.create({
      data: {
        tenantId,
        kind: 'submission',
        envelopeFrom: 'a@victim.example',
        fromDomain: 'victim.example',
        subject: 'secret plans',
        blobSha256: sha256,
        size: raw.length,
      },
    });
    const delivery = await ctx.db.prisma.delivery.create({
      data: {
        tenantId,
        outboundMessageId: message.id,
        recipient: 'partner@elsewhere.example',
        recipientDomain: 'elsewhere.example',
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    const suppression = await ctx.db.prisma.suppression.create({
      data: { tenantId, address: 'gone@elsewhere.example', reason: 'manual' },
    });
    return { deliveryId: delivery.id, suppressionId: suppression.id };
  },
  bodies: {
    'POST /v1/tenants/{tenantId}/deliveries/{deliveryId}/retry': {},
    'POST /v1/tenants/{tenantId}/deliveries/{deliveryId}/cancel': {},
    'POST /v1/tenants/{tenantId}/suppressions': { address: 'walk@elsewhere.example' },
  },
};

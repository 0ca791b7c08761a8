import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPublicAddress } from '@mailroom/rules';
import { open } from '@mailroom/core';
import type { PrismaClient } from '@mailroom/db';

export const SIGNATURE_HEADER = 'Mailroom-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs: the timestamp is
 * signed too, so a receiver can refuse replays of old deliveries.
 */
export function signWebhook(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** For receivers (and tests): true when the header signs this body with this secret. */
export function verifyWebhookSignature(secret: string, body: string, header: string): boolean {
  const t = /t=(\d+)/.exec(header)?.[1];
  const v1 = /v1=([0-9a-f]{64})/.exec(header)?.[1];
  if (!t || !v1) return false;
  const expected = signWebhook(secret, body, Number(t)).split('v1=')[1]!;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(v1, 'hex'));
}

/**
 * Refuses a webhook whose host resolves to a loopback, private, link-local or otherwise internal
 * address (SSRF into the platform's network), checked on every delivery because names change.
 */
async function assertPublicTarget(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  const internal = addresses.find((a) => !isPublicAddress(a));
  if (internal !== undefined || addresses.length === 0) {
    throw new Error(`refused: ${host} resolves to an internal address (${internal ?? 'none'})`);
  }
}

export const WEBHOOK_SECRET_CONTEXT = (webhookId: string) => `webhook:${webhookId}`;

export type WebhookOutcome = 'delivered' | 'failed' | 'skipped';

/**
 * Sends one recorded event to its webhook. A non-2xx answer or a network error throws, so the
 * queue retries with backoff; the attempt is recorded either way. Delivered rows are never sent
 * again (the job may run twice after a crash: compare-and-set on the status).
 */
export async function deliverWebhook(
  prisma: PrismaClient,
  masterKey: Buffer,
  ids: { tenantId: string; webhookDeliveryId: string },
  options: { timeoutMs?: number; finalAttempt?: boolean; allowPrivate?: boolean } = {},
): Promise<WebhookOutcome> {
  const row = await prisma.webhookDelivery.findUnique({
    where: { tenantId_id: { tenantId: ids.tenantId, id: ids.webhookDeliveryId } },
    include: { webhook: true },
  });
  if (!row || row.status !== 'pending' || !row.webhook.enabled) return 'skipped';
  const body = JSON.stringify(row.payload);
  const secret = open(masterKey, row.webhook.secretEncrypted, WEBHOOK_SECRET_CONTEXT(row.webhookId));
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    if (!options.allowPrivate) await assertPublicTarget(row.webhook.url);
    const res = await fetch(row.webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mailroom-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(secret, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    statusCode = res.status;
    await res.body?.cancel();
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const done = error === null;
  await prisma.webhookDelivery.updateMany({
    where: { tenantId: row.tenantId, id: row.id, status: 'pending' },
    data: {
      attempts: { increment: 1 },
      lastStatusCode: statusCode,
      lastError: error,
      ...(done ? { status: 'delivered', deliveredAt: new Date() } : options.finalAttempt ? { status: 'failed' } : {}),
    },
  });
  if (!done) throw new Error(`webhook ${row.webhookId} answered ${error}`);
  return 'delivered';
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from '@mailroom/rules';
import { open } from '@mailroom/core';
import type { Db } from '@mailroom/db';
import { WebhookDeliveryRepository } from './webhook.repository';

const webhookRepository = new WebhookDeliveryRepository();

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
 * POSTs a JSON body without following redirects. With `publicOnly`, the connection is made only
 * to an address checked to be public: the check runs inside the socket's own lookup, so a name
 * that resolves differently between a check and the connect (DNS rebinding) cannot slip
 * through. Literal IPs skip lookup, so they are checked before.
 */
function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; publicOnly: boolean },
): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (options.publicOnly && isIP(host) && !isPublicAddress(host)) {
    return Promise.reject(new Error(`refused: ${host} is an internal address`));
  }
  const guardedLookup = ((hostname: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { all: true }).then(
      (found) => {
        const internal = found.find((a) => !isPublicAddress(a.address));
        if (internal || found.length === 0) {
          return callback(
            new Error(`refused: ${hostname} resolves to an internal address (${internal?.address ?? 'none'})`),
          );
        }
        return opts?.all ? callback(null, found) : callback(null, found[0]!.address, found[0]!.family);
      },
      (err: unknown) => callback(err),
    );
  }) as unknown as LookupFunction;
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: options.timeoutMs,
        ...(options.publicOnly ? { lookup: guardedLookup } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const WEBHOOK_SECRET_CONTEXT = (webhookId: string) => `webhook:${webhookId}`;

export type WebhookOutcome = 'delivered' | 'failed' | 'skipped';

/**
 * Sends one recorded event to its webhook. A non-2xx answer or a network error throws, so the
 * queue retries with backoff; the attempt is recorded either way. Delivered rows are never sent
 * again (the job may run twice after a crash: compare-and-set on the status).
 */
export async function deliverWebhook(
  db: Db,
  masterKey: Buffer,
  ids: { tenantId: string; webhookDeliveryId: string },
  options: { timeoutMs?: number; finalAttempt?: boolean; allowPrivate?: boolean } = {},
): Promise<WebhookOutcome> {
  const row = await webhookRepository.findDelivery(db, ids.tenantId, ids.webhookDeliveryId);
  if (!row || row.status !== 'pending' || !row.webhook.enabled) return 'skipped';
  const body = JSON.stringify(row.payload);
  const secret = open(masterKey, row.webhook.secretEncrypted, WEBHOOK_SECRET_CONTEXT(row.webhookId));
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    statusCode = await postJson(
      row.webhook.url,
      {
        'content-type': 'application/json',
        'user-agent': 'Mailroom-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(secret, body),
      },
      body,
      { timeoutMs: options.timeoutMs ?? 10_000, publicOnly: !options.allowPrivate },
    );
    if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const done = error === null;
  await webhookRepository.recordAttempt(db, row.tenantId, row.id, {
    statusCode,
    error,
    status: done ? 'delivered' : options.finalAttempt ? 'failed' : 'pending',
    at: new Date(),
  });
  if (!done) throw new Error(`webhook ${row.webhookId} answered ${error}`);
  return 'delivered';
}

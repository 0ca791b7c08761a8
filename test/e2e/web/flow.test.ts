import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { recordEvent } from '@mailroom/webhooks';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Client, expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';
import { queueOutboundRows } from '@test/support/outbound-rows';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';
import { expectAccessible, launchChromium, screenshotPath, tabTo } from './browser';

const DAY = 86_400_000;
/** Noon UTC `n` days ago: inside that UTC day whatever the hour of the run. */
const daysAgo = (n: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 12) - n * DAY);
};

// The reseller's tenants page, the mail-flow pages and the charts, in Chromium, over the API
// (createApiApp serving dist/web) and its own database.
describe('dashboard: tenants, mail flow and activity', () => {
  let db: TestDatabase;
  let api: TestApi;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  let tenantName: string;
  let browser: Browser;
  const ids: { deferred?: string; bounced?: string } = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    const sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller);
    tenantName = (await db.prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).name;
    const tenantId = tenant.id;
    const domain = await addDomain(db, tenantId, 'acme.example');
    const big = await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart: 'big', passwordHash: 'x', usedBytes: 300n * 1024n * 1024n },
    });
    await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart: 'small', passwordHash: 'x', usedBytes: 5n * 1024n * 1024n },
    });
    // Mail that arrived: 4 today, 2 three days ago, 1 forty days ago (outside the 30 days).
    const raw = Buffer.from('From: partner@elsewhere.example\r\nSubject: Order 42\r\n\r\nbody\r\n');
    const sha256 = createHash('sha256').update(raw).digest('hex');
    await db.prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
    const inbox = await db.prisma.folder.create({
      data: { tenantId, mailboxId: big.id, name: 'INBOX', kind: 'inbox' },
    });
    await db.prisma.message.createMany({
      data: [0, 0, 0, 0, 3, 3, 40].map((ago, i) => ({
        tenantId,
        mailboxId: big.id,
        folderId: inbox.id,
        blobSha256: sha256,
        uid: i + 1,
        size: raw.length,
        envelopeFrom: 'partner@elsewhere.example',
        envelopeTo: 'big@acme.example',
        receivedAt: daysAgo(ago),
      })),
    });
    // Sent mail, as submission commits it: one message to three recipients.
    const [deferred, bounced, delivered] = await queueOutboundRows(db.prisma, {
      tenantId,
      raw,
      envelopeFrom: 'big@acme.example',
      recipients: ['partner@elsewhere.example', 'gone@elsewhere.example', 'friend@elsewhere.example'],
    });
    ids.deferred = deferred;
    ids.bounced = bounced;
    const later = new Date(Date.now() + 3_600_000);
    const set = (id: string, data: Record<string, unknown>) =>
      db.prisma.delivery.update({ where: { tenantId_id: { tenantId, id } }, data });
    await set(deferred!, {
      status: 'deferred',
      attempts: 1,
      nextAttemptAt: later,
      lastResponse: '451 4.2.1 Mailbox busy',
      lastResponseCode: 451,
    });
    await set(bounced!, {
      status: 'bounced',
      attempts: 1,
      lastResponse: '550 5.1.1 No such user',
      lastResponseCode: 550,
    });
    await set(delivered!, { status: 'delivered', attempts: 1, deliveredAt: new Date() });
    await db.prisma.deliveryEvent.create({
      data: {
        tenantId,
        deliveryId: deferred!,
        type: 'attempt',
        remoteHost: 'mx.elsewhere.example',
        remoteIp: '192.0.2.7',
        smtpCode: 451,
        enhancedCode: '4.2.1',
        response: '451 4.2.1 Mailbox busy',
        durationMs: 812,
      },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await db?.drop();
  });

  async function open(
    email: string,
    viewport = { width: 1280, height: 900 },
  ): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(api.url + '/');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return { context, page, errors };
  }

  const meter = (page: Page, name: string) => page.getByRole('meter', { name, exact: true });

  it('lets a reseller admin create a tenant, see its usage, change its limits, suspend, delete and restore it', async () => {
    const { context, page, errors } = await open(reseller.adminEmail);
    await page.getByRole('heading', { name: 'Choose a tenant', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();

    // The existing tenant with its usage against the default plan (10 domains, 100 mailboxes, 10 GB).
    await expect(meter(page, `Domains of ${tenantName}`).getAttribute('aria-valuetext')).resolves.toBe('1 of 10');
    await expect(meter(page, `Mailboxes of ${tenantName}`).getAttribute('aria-valuetext')).resolves.toBe('2 of 100');
    await expect(meter(page, `Storage of ${tenantName}`).getAttribute('aria-valuetext')).resolves.toBe(
      '305 MB of 10 GB',
    );
    await expect(meter(page, `Messages in of ${tenantName}`).getAttribute('aria-valuetext')).resolves.toBe('4 in');
    await expect(meter(page, `Messages out of ${tenantName}`).getAttribute('aria-valuetext')).resolves.toBe('1 out');

    await page.getByRole('button', { name: 'New tenant' }).click();
    const form = page.locator('#new-tenant');
    await form.getByLabel('Name').fill('Globex');
    await form.getByLabel('Domains at most').fill('5');
    await form.getByLabel('Mailboxes at most').fill('50');
    await form.getByLabel('Storage in GB').fill('2');
    await form.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('status').filter({ hasText: 'Tenant Globex created.' }).waitFor();
    await expect(meter(page, 'Domains of Globex').getAttribute('aria-valuetext')).resolves.toBe('0 of 5');
    await expect(meter(page, 'Mailboxes of Globex').getAttribute('aria-valuetext')).resolves.toBe('0 of 50');
    await expect(meter(page, 'Storage of Globex').getAttribute('aria-valuetext')).resolves.toBe('0 B of 2 GB');
    const listed = async () => {
      const found = expectStatus(
        await reseller.admin.typed.GET('/v1/tenants', { params: { query: { q: 'Globex' } } }),
        200,
      ).items;
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const globex = await listed();
    expect(globex).toMatchObject({
      resellerId: reseller.id,
      status: 'active',
      limits: { maxDomains: 5, maxMailboxes: 50, storageQuotaBytes: 2 * 1024 ** 3 },
    });
    await expectAccessible(page, 'tenants');
    await page.screenshot({ path: screenshotPath('dashboard-tenants.png'), fullPage: true });

    // Plan limits.
    await page.getByRole('button', { name: 'Plan limits of Globex' }).click();
    const limits = page.getByRole('form', { name: 'Plan limits of Globex' });
    await limits.getByLabel('Mailboxes at most').fill('60');
    await limits.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Plan limits of Globex saved.' }).waitFor();
    await expect(meter(page, 'Mailboxes of Globex').getAttribute('aria-valuetext')).resolves.toBe('0 of 60');
    expect((await listed()).limits.maxMailboxes).toBe(60);

    // Suspend, resume, delete (with a confirmation) and restore.
    await page.getByRole('button', { name: 'Suspend Globex' }).click();
    await page.getByRole('status').filter({ hasText: 'Tenant Globex suspended.' }).waitFor();
    expect((await listed()).status).toBe('suspended');
    await page.getByRole('button', { name: 'Resume Globex' }).click();
    await page.getByRole('status').filter({ hasText: 'Tenant Globex resumed.' }).waitFor();
    expect((await listed()).status).toBe('active');
    await page.getByRole('button', { name: 'Delete Globex' }).click();
    await page.getByText('Its mail is kept for the grace period, then purged.').waitFor();
    await page.getByRole('button', { name: 'Delete Globex' }).click();
    await page.getByRole('status').filter({ hasText: 'Tenant Globex deleted' }).waitFor();
    await page.getByText(/^Restorable until /).waitFor();
    expect((await listed()).status).toBe('deleted');
    await page.getByRole('button', { name: 'Restore Globex' }).click();
    await page.getByRole('status').filter({ hasText: 'Tenant Globex restored.' }).waitFor();
    expect((await listed()).status).toBe('active');

    // "Manage" opens the tenant's own pages.
    await page.getByRole('button', { name: `Manage ${tenantName}` }).click();
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets a tenant admin find a deferred delivery by keyboard and retry it, and retry a bounced one once its suppression is lifted', async () => {
    const { context, page, errors } = await open(tenant.adminEmail);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Mail flow' }).click();
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor();
    const rows = page.locator('table.deliveries > tbody > tr');
    await expect.poll(() => rows.count()).toBe(3);
    await expectAccessible(page, 'deliveries');

    // Filter by status: the deferred one only.
    await page.getByLabel('Status').selectOption('deferred');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('partner@elsewhere.example');
    await expect(rows.first().textContent()).resolves.toContain('451 4.2.1 Mailbox busy');

    // By keyboard: search the recipient, open the delivery, retry it.
    await page.getByLabel('Status').selectOption('');
    await tabTo(page, "el.closest('label')?.textContent?.startsWith('Recipient') === true");
    await page.keyboard.type('partner@elsewhere.example');
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count()).toBe(1);
    await tabTo(page, "el.getAttribute('aria-label') === 'Details of the delivery to partner@elsewhere.example'");
    await page.keyboard.press('Enter');
    const details = page.locator('.delivery-details');
    await details.getByRole('heading', { name: 'Delivery to partner@elsewhere.example' }).waitFor();
    await expect(details.textContent()).resolves.toContain('mx.elsewhere.example · 192.0.2.7 · 812 ms');
    await expect(details.locator('.badge').first().textContent()).resolves.toBe('deferred');
    await expectAccessible(page, 'delivery details');
    await page.screenshot({ path: screenshotPath('dashboard-delivery.png'), fullPage: true });
    await tabTo(page, "el.textContent === 'Retry now'");
    await page.keyboard.press('Enter');
    await page
      .getByRole('status')
      .filter({ hasText: 'The delivery to partner@elsewhere.example is queued to be tried now.' })
      .waitFor();
    await details.getByText('retry_requested').waitFor();

    const held = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', {
        params: { path: { tenantId: tenant.id, deliveryId: ids.deferred! } },
      }),
      200,
    );
    expect(held.status).toBe('deferred');
    expect(new Date(held.nextAttemptAt!).getTime()).toBeLessThanOrEqual(Date.now());
    expect(held.events?.map((e) => e.type)).toEqual(['attempt', 'retry_requested']);
    const audit = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'delivery.retry' } },
      }),
      200,
    );
    expect(audit.items.map((a) => a.targetId)).toEqual([ids.deferred]);

    // The bounced delivery (550 5.1.1, its recipient suppressed by the hard bounce) offers
    // "Retry delivery" and no cancel; while the address is suppressed the API refuses and the page
    // says why; once the admin lifts the suppression the retry queues it again.
    const suppression = expectStatus(
      await tenant.admin.typed.POST('/v1/tenants/{tenantId}/suppressions', {
        params: { path: { tenantId: tenant.id } },
        body: { address: 'gone@elsewhere.example', detail: '550 5.1.1 No such user' },
      }),
      201,
    );
    await page.getByLabel('Recipient').fill('');
    await page.getByLabel('Status').selectOption('bounced');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('button', { name: 'Details of the delivery to gone@elsewhere.example' }).click();
    await page.getByText('This delivery bounced. Retrying queues it again').waitFor();
    await expect(page.getByRole('button', { name: 'Cancel delivery' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Retry delivery' }).click();
    await page.getByText('gone@elsewhere.example is on the suppression list', { exact: false }).waitFor();
    expectStatus(
      await tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/suppressions/{suppressionId}', {
        params: { path: { tenantId: tenant.id, suppressionId: suppression.id } },
      }),
      204,
    );
    await page.getByRole('button', { name: 'Retry delivery' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'The delivery to gone@elsewhere.example is queued to be tried now.' })
      .waitFor();
    const resent = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', {
        params: { path: { tenantId: tenant.id, deliveryId: ids.bounced! } },
      }),
      200,
    );
    expect(resent.status).toBe('queued');
    expect(resent.events?.map((e) => e.type)).toContain('retry_requested');

    // The audit log page lists the retry.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await expect.poll(() => page.locator('table.audit').getByText('delivery.retry').count()).toBe(2);
    await expectAccessible(page, 'audit log');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('draws the activity charts with the counts the data implies', async () => {
    const { context, page, errors } = await open(tenant.adminEmail);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();

    // 6 messages arrived in the last 30 days (the one of 40 days ago is outside), 1 left.
    const messages = page.getByRole('figure', { name: 'Messages in and out per day' });
    await messages.getByText('Last 30 days: 6 in, 1 out.').waitFor();
    await expect(messages.locator('svg rect.bar-in').count()).resolves.toBe(30);
    await messages.getByText('Show as a table').click();
    const dayRows = messages.locator('table tbody tr');
    await expect(dayRows.count()).resolves.toBe(30);
    expect((await dayRows.last().locator('td').allTextContents()).slice(1)).toEqual(['4', '1']);
    expect((await dayRows.nth(26).locator('td').allTextContents()).slice(1)).toEqual(['2', '0']);

    // Deliveries by outcome: one deferred, one delivered, and the bounced one queued again by the test above.
    const outcomes = page.getByRole('figure', { name: 'Deliveries by outcome (30 days)' });
    await outcomes.getByText('Deliveries: 3.').waitFor();
    await expect(outcomes.getByRole('img').getAttribute('aria-label')).resolves.toBe(
      'Deliveries: 3: queued 1, sending 0, deferred 1, delivered 1, bounced 0, cancelled 0',
    );

    // Storage by mailbox: the larger first.
    const storage = page.getByRole('figure', { name: 'Storage by mailbox' });
    await storage.getByText('305 MB stored, mailboxes: 2').waitFor();
    expect(await storage.locator('svg text.label').allTextContents()).toEqual([
      'big@acme.example',
      'small@acme.example',
    ]);
    expect(await storage.locator('svg text.value').allTextContents()).toEqual(['300 MB', '5 MB']);

    // The same numbers the API holds.
    const stats = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/stats/messages', {
        params: { path: { tenantId: tenant.id } },
      }),
      200,
    );
    expect(stats.days.reduce((s, d) => s + d.in, 0)).toBe(6);
    await expectAccessible(page, 'activity');
    await page.screenshot({ path: screenshotPath('dashboard-activity.png'), fullPage: true });

    // In Slovak too.
    await page.getByLabel('Language').selectOption('sk');
    await page.getByRole('heading', { name: 'Aktivita', level: 1 }).waitFor();
    await page.getByText('Posledné dni (30): prijaté 6, odoslané 1.').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('fits a phone: the tenants, deliveries and activity pages scroll only downwards', async () => {
    const overflow = (page: Page) =>
      page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;
    const asReseller = await open(reseller.adminEmail, { width: 390, height: 844 });
    await asReseller.page.getByRole('link', { name: 'Tenants' }).click();
    await asReseller.page.getByRole('meter', { name: `Domains of ${tenantName}` }).waitFor();
    expect(await overflow(asReseller.page)).toBeLessThanOrEqual(0);
    await asReseller.context.close();

    const { context, page } = await open(tenant.adminEmail, { width: 390, height: 844 });
    await page.getByRole('link', { name: 'Mail flow' }).click();
    await expect.poll(() => page.locator('table.deliveries > tbody > tr').count()).toBe(3);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByText('Last 30 days: 6 in, 1 out.').waitFor();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'activity on a phone');
    await context.close();
  });

  it('creates a narrowed API key shown once and revokes it, shows webhook attempts, suppressions and a trace', async () => {
    const { context, page, errors } = await open(tenant.adminEmail);
    await page.getByRole('link', { name: 'Mail flow' }).click();
    const tabs = page.getByRole('navigation', { name: 'Mail flow' });

    // An API key narrowed to two read scopes and one domain; the key is shown once.
    await tabs.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('Billing export');
    await page.getByRole('checkbox', { name: 'mailboxes:read' }).check();
    await page.getByRole('checkbox', { name: 'deliveries:read' }).check();
    await page.getByRole('checkbox', { name: 'acme.example' }).check();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const shown = page.locator('.alert-success code.secret');
    await shown.waitFor();
    const rawKey = (await shown.textContent())!;
    expect(rawKey).toMatch(/^mr_/);
    await page.locator('table.api-keys').getByText('Billing export').waitFor();
    await expectAccessible(page, 'API keys');
    const keys = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/api-keys', { params: { path: { tenantId: tenant.id } } }),
      200,
    ).items;
    const billing = keys.find((k) => k.name === 'Billing export')!;
    expect([...billing.scopes].sort()).toEqual(['deliveries:read', 'mailboxes:read']);
    expect(billing.domains).toEqual(['acme.example']);
    const asKey = new Client(api, rawKey);
    const mailboxes = { params: { path: { tenantId: tenant.id } } };
    expectStatus(await asKey.typed.GET('/v1/tenants/{tenantId}/mailboxes', mailboxes), 200);
    // Shown once: the page does not show it again.
    await tabs.getByRole('link', { name: 'Audit log' }).click();
    await tabs.getByRole('link', { name: 'API keys' }).click();
    await page.locator('table.api-keys').getByText('Billing export').waitFor();
    await expect(page.locator('code.secret').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Revoke the API key Billing export' }).click();
    await page.getByRole('status').filter({ hasText: 'API key Billing export revoked' }).waitFor();
    expect((await asKey.typed.GET('/v1/tenants/{tenantId}/mailboxes', mailboxes)).response.status).toBe(401);

    // A webhook, its secret shown once, and its recent attempts.
    await tabs.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByLabel('URL (https)').fill('https://hooks.example/mail');
    await page.getByRole('checkbox', { name: 'delivery.deferred' }).check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.locator('.alert-success code.secret').waitFor();
    await page.getByRole('heading', { name: 'https://hooks.example/mail', level: 2 }).waitFor();
    const [hook] = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/webhooks', { params: { path: { tenantId: tenant.id } } }),
      200,
    ).items;
    expect([...hook!.events].sort()).toEqual(['delivery.bounced', 'delivery.deferred']);
    const [attemptId] = await db.prisma.$transaction((tx) =>
      recordEvent(tx, tenant.id, 'delivery.bounced', { recipient: 'gone@elsewhere.example' }),
    );
    await db.prisma.webhookDelivery.update({
      where: { tenantId_id: { tenantId: tenant.id, id: attemptId! } },
      data: { status: 'failed', attempts: 3, lastStatusCode: 500, lastError: 'HTTP 500 from hooks.example' },
    });
    await page.getByRole('button', { name: 'Recent attempts of https://hooks.example/mail' }).click();
    const attempt = page.locator(`#attempts-${hook!.id} tbody tr`);
    await expect.poll(() => attempt.count()).toBe(1);
    const cells = await attempt.locator('td').allTextContents();
    expect(cells[0]).toContain('delivery.bounced');
    expect(cells[1]).toContain('failed');
    expect(cells[2]).toContain('HTTP 500 from hooks.example');
    const enabled = page.getByRole('switch', { name: 'Webhook https://hooks.example/mail enabled' });
    await enabled.click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await expect(enabled.isChecked()).resolves.toBe(false);
    const saved = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/webhooks/{webhookId}', {
        params: { path: { tenantId: tenant.id, webhookId: hook!.id } },
      }),
      200,
    );
    expect(saved.enabled).toBe(false);
    await expectAccessible(page, 'webhooks');

    // Suppress an address, then lift it.
    await tabs.getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    await page.getByLabel('Address', { exact: true }).fill('nobody@elsewhere.example');
    await page.getByLabel('Note (optional)').fill('asked us to stop');
    await page.getByRole('button', { name: 'Suppress', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'nobody@elsewhere.example is suppressed.' }).waitFor();
    await page.locator('table.suppressions').getByText('asked us to stop').waitFor();
    const suppressions = async () =>
      expectStatus(
        await tenant.admin.typed.GET('/v1/tenants/{tenantId}/suppressions', {
          params: { path: { tenantId: tenant.id } },
        }),
        200,
      ).items.map((x) => [x.address, x.reason]);
    expect(await suppressions()).toEqual([['nobody@elsewhere.example', 'manual']]);
    await expectAccessible(page, 'suppressions');
    await page.getByRole('button', { name: 'Lift the suppression of nobody@elsewhere.example' }).click();
    await page.getByText('No suppressed address.').waitFor();
    expect(await suppressions()).toEqual([]);

    // The trace of the sent message by one of its recipients.
    await tabs.getByRole('link', { name: 'Message trace' }).click();
    await page.getByRole('heading', { name: 'Message trace', level: 1 }).waitFor();
    await page.getByLabel('Recipient').fill('partner@elsewhere.example');
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.getByRole('heading', { name: 'Sent on' }).waitFor();
    const sentOn = page.locator('.trace-deliveries');
    await expect(sentOn.textContent()).resolves.toContain('friend@elsewhere.example');
    await expect(sentOn.textContent()).resolves.toContain('451 4.2.1 Mailbox busy');
    await expectAccessible(page, 'trace');
    expect(errors).toEqual([]);
    await context.close();
  });
});

import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';
import { expectAccessible, launchChromium, tabTo } from './browser';

/** The code an authenticator app shows `offset` periods from now. */
function totp(secret: string, offset = 0): string {
  const t = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return t.generate({ timestamp: Date.now() + offset * 30_000 });
}

/** A six-digit code that is not `right`. */
const wrongCode = (right: string) => (right === '000000' ? '111111' : '000000');

// Two-factor sign-in and the Security page of the dashboard, in Debian's Chromium against the
// real API (as dashboard.test.ts): enrol TOTP from the QR page, sign out and in with a code,
// sessions, and a tenant policy that sends an admin to enrolment first.
describe('dashboard security: two-factor sign-in and sessions', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await db?.drop();
  });

  async function open(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(api.url + '/');
    return { context, page, errors };
  }

  async function signIn(page: Page, email: string): Promise<void> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('enrols TOTP from the QR code, signs out, and signs in again with a code by keyboard; a wrong code says so', async () => {
    const tenant = await sut.newTenant(reseller);
    const { context, page, errors } = await open();
    await signIn(page, tenant.adminEmail);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    await page.getByText('Two-factor sign-in is off.').waitFor();
    await expectAccessible(page, 'security page, 2FA off');

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByRole('img', { name: 'QR code to add Mailroom to an authenticator app' });
    await qr.waitFor();
    // The picture decodes (a data: URL the page's CSP allows), not only its alt text.
    await expect.poll(() => page.evaluate("document.querySelector('img.qr').naturalWidth")).toBeGreaterThan(0);
    const secret = (await page.locator('code.secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await expectAccessible(page, 'security page, enrolling');

    await page.getByLabel('Code from the app').fill(wrongCode(totp(secret)));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('That code does not match.');
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    const codes = await page.locator('.recovery-codes code').allTextContents();
    expect(codes).toHaveLength(10);
    await expectAccessible(page, 'recovery codes');
    await page.getByRole('button', { name: 'I have saved the codes' }).click();
    await page.getByText(/Two-factor sign-in is on since .*Recovery codes left: 10\./).waitFor();

    // What the API holds: TOTP on, ten unused codes, the enrolment in the audit log.
    const user = await db.prisma.adminUser.findUniqueOrThrow({
      where: { email: tenant.adminEmail },
      include: { recoveryCodes: true },
    });
    expect(user.totpEnabledAt).not.toBeNull();
    expect(user.recoveryCodes.filter((c) => c.usedAt === null)).toHaveLength(10);
    const audit = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'mfa.*' } },
      }),
      200,
    );
    expect(audit.items.map((e) => e.action)).toEqual(['mfa.totp.enable']);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText('You are signed out.').waitFor();

    // Keyboard only from here: email, password, then the code step.
    await tabTo(page, "el.getAttribute('name') === 'email'");
    await page.keyboard.type(tenant.adminEmail);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Two-factor sign-in', level: 1 }).waitFor();
    await expectAccessible(page, 'code step');
    await expect(page.evaluate("document.activeElement?.getAttribute('name')")).resolves.toBe('code');
    // The enrolment spent this period's code: the app's next one is what a person would type.
    const next = totp(secret, 1);
    await page.keyboard.type(wrongCode(next));
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('That code is wrong or was already used.');
    await tabTo(page, "el.getAttribute('name') === 'code'");
    await page.keyboard.type(next);
    await page.keyboard.press('Enter');
    // Signed in, back on the page the address bar names.
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    await page.getByText(/Two-factor sign-in is on since/).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lists sessions and signs out everywhere else; the other sessions stop working at once', async () => {
    const tenant = await sut.newTenant(reseller);
    const { context, page } = await open();
    await signIn(page, tenant.adminEmail);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Security' }).click();
    const rows = page.locator('table.sessions tbody tr');
    // This browser and the test's own API session.
    await expect.poll(() => rows.count()).toBe(2);
    await expect(rows.filter({ hasText: 'This session' }).count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: /HeadlessChrome|Chrome/ }).count()).resolves.toBe(1);
    await expectAccessible(page, 'sessions');
    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await page.getByRole('status').filter({ hasText: 'Signed out everywhere else (1 sessions).' }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByText('No other sessions.').waitFor();
    // The API's own session (the factory's login) is refused now; the browser's still works.
    expect((await tenant.admin.typed.GET('/v1/auth/me')).response.status).toBe(401);
    await page.getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await context.close();
  });

  it('lets an admin require 2FA of every admin, then sends them to enrolment first, then into the dashboard', async () => {
    const tenant = await sut.newTenant(reseller);
    const { context, page } = await open();
    // The policy from the Security page, by keyboard: the box, then Save.
    await signIn(page, tenant.adminEmail);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Security' }).click();
    const box = page.getByLabel('Require two-factor sign-in for every admin of this company');
    await box.waitFor();
    expect(await box.isChecked()).toBe(false);
    await box.focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'The sign-in policy is saved.' }).waitFor();
    await expectAccessible(page, 'security policy');
    const held = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/security-policy', {
        params: { path: { tenantId: tenant.id } },
      }),
      200,
    );
    expect(held).toEqual({ requireMfa: true, resellerRequiresMfa: false });
    await page.getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByText('You are signed out.').waitFor();
    await signIn(page, tenant.adminEmail);
    await page.getByText('Your organisation requires two-factor sign-in. Set up an authenticator app').waitFor();
    await expect(page.getByRole('link', { name: 'Mailboxes' }).count()).resolves.toBe(0);
    await expectAccessible(page, 'enrolment required');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Continue to the dashboard' }).click();
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: tenant.adminEmail } });
    expect(user.totpEnabledAt).not.toBeNull();
    await context.close();
  });
});

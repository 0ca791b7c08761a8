import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';
import { expectAccessible, launchChromium } from './browser';
// A free loopback port: WebAuthn's origin must be known before the API starts.
import { freePort } from '@test/support/processes';

// Passkeys in the dashboard, in Debian's Chromium with a virtual authenticator (CDP WebAuthn
// domain: a CTAP2 platform authenticator that verifies the user). The page is opened at
// http://localhost, not 127.0.0.1: an IP address can never be a WebAuthn RP ID.
// PasskeysSection is a section of the Security page (/security).
describe('passkeys in the dashboard', () => {
  let db: TestDatabase;
  let api: TestApi;
  let origin: string;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    origin = `http://localhost:${port}`;
    api = await startApi(db, { API_PORT: String(port), WEBAUTHN_ORIGIN: origin });
    const sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await db?.drop();
  });

  async function open(): Promise<{ context: BrowserContext; page: Page; cdp: CDPSession }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(origin + '/');
    return { context, page, cdp };
  }

  async function signInWithPassword(page: Page): Promise<void> {
    await page.getByLabel('Email').fill(tenant.adminEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Moves within the single-page app as its links do (a reload would sign out). */
  async function go(page: Page, path: string): Promise<void> {
    await page.evaluate(
      `history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`,
    );
  }

  async function addPasskey(page: Page, name: string): Promise<void> {
    // By keyboard: type the name and press Enter.
    await page.getByLabel('Name of the new passkey').fill(name);
    await page.getByLabel('Name of the new passkey').press('Enter');
  }

  const listed = async () => expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa/passkeys'), 200).items;

  it('enrols a passkey with the virtual authenticator, then signs in with the password and the passkey', async () => {
    const { context, page } = await open();
    await signInWithPassword(page);
    await expect.poll(() => page.getByRole('link', { name: 'Mailboxes' }).count()).toBe(1);
    await go(page, '/security');
    await expect.poll(() => page.getByRole('heading', { name: 'Passkeys', level: 2 }).count()).toBe(1);
    await expect.poll(() => page.getByText('You have no passkey yet.').count()).toBe(1);

    await addPasskey(page, 'First try');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Passkey First try added.' }).count()).toBe(1);
    expect((await listed()).map((p) => p.name)).toEqual(['First try']);

    // The same authenticator again: the options exclude it, and the page says why nothing happened.
    await addPasskey(page, 'Again');
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('This device already holds a passkey for your account.');
    expect(await listed()).toHaveLength(1);

    // Removed from the page, gone from the API.
    await page.getByRole('button', { name: 'Remove the passkey First try' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Passkey First try removed.' }).count()).toBe(1);
    await expect.poll(() => page.getByText('You have no passkey yet.').count()).toBe(1);
    expect(await listed()).toEqual([]);

    await addPasskey(page, 'Chromium');
    await expect
      .poll(() => page.getByRole('listitem').filter({ hasText: 'Chromium' }).textContent())
      .toMatch(/Not used yet/);
    await expectAccessible(page, 'passkeys section');
    const [enrolled] = await listed();
    expect(enrolled).toMatchObject({ name: 'Chromium', lastUsedAt: null });
    expect(enrolled!.transports).toContain('internal');

    // Sign out; the password now leads to the second step, which the passkey completes.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await expect.poll(() => page.getByText('You are signed out.').count()).toBe(1);
    const answered = page.waitForResponse((r) => r.url().endsWith('/v1/auth/login'));
    await signInWithPassword(page);
    const challenge = (await (await answered).json()) as { status: string; mfaToken: string; methods: string[] };
    expect(challenge.status).toBe('mfa_required');
    expect(challenge.methods).toEqual(['passkey']);
    await expect.poll(() => page.getByRole('heading', { name: 'Two-factor sign-in' }).count()).toBe(1);

    // An admin with passkeys only gets no code field: the step is "Use a passkey", answered by
    // the virtual authenticator; the dashboard then opens, signed in as that admin.
    await expect.poll(() => page.getByLabel('Code', { exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Use a passkey' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('link', { name: 'Mailboxes' }).count()).toBe(1);
    await expect.poll(() => page.locator('.who').textContent()).toBe(tenant.adminEmail);
    await expectAccessible(page, 'signed in with a passkey');

    // The API holds the passkey with the time of this sign-in, and the audit log the whole story.
    const [used] = await listed();
    expect(used!.id).toBe(enrolled!.id);
    expect(Date.now() - Date.parse(used!.lastUsedAt!)).toBeLessThan(60_000);
    const audit = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'mfa.passkey.*' } },
      }),
      200,
    );
    expect(audit.items.map((e) => e.action)).toEqual([
      'mfa.passkey.use',
      'mfa.passkey.add',
      'mfa.passkey.remove',
      'mfa.passkey.add',
    ]);
    await context.close();
  });
});

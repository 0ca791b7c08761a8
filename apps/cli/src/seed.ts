import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { Config } from '@mailroom/config';
import { ALL_SCOPES, apiKeyMatches, generateApiKey, PASSWORD_HASH_OPTIONS } from '@mailroom/core';
import type { CliRepository } from './cli.repository';

/** Fixed ids make the seed an upsert: running it twice changes nothing. */
export const DEMO = {
  resellerId: '00000000-0000-4000-8000-000000000001',
  tenantId: '00000000-0000-4000-8000-000000000002',
  domainId: '00000000-0000-4000-8000-000000000003',
  mailboxId: '00000000-0000-4000-8000-000000000004',
  domain: 'demo.mailroom.test',
  mailbox: 'hello',
  apiKeyName: 'demo',
  adminEmail: 'admin@demo.mailroom.test',
} as const;

export interface DemoCredentials {
  tenantId: string;
  apiKey: string;
  mailbox: string;
  mailboxPassword: string;
  /** The tenant admin who signs in to the dashboard. */
  adminEmail: string;
  adminPassword: string;
}

const FOLDERS = [
  { name: 'INBOX', kind: 'inbox' },
  { name: 'Sent', kind: 'sent' },
  { name: 'Drafts', kind: 'drafts' },
  { name: 'Trash', kind: 'trash' },
  { name: 'Junk', kind: 'junk' },
] as const;

/**
 * Seeds a demo reseller, tenant, active domain, mailbox, tenant API key and tenant admin (who
 * signs in to the dashboard). Secrets are shown
 * once and kept in DATA_DIR/demo-credentials.json (mode 600) so a second run can print them
 * again without storing them in the database.
 */
export async function seedDemo(repo: CliRepository, config: Config): Promise<DemoCredentials> {
  const file = path.resolve(config.DATA_DIR, 'demo-credentials.json');
  const saved = readSaved(file);

  await repo.ensureDemoTenant(DEMO, {
    name: DEMO.domain,
    ownershipToken: randomBytes(16).toString('hex'),
    at: new Date(),
  });

  const existingMailbox = await repo.findMailbox(DEMO.tenantId, DEMO.mailboxId);
  let mailboxPassword = saved?.mailboxPassword;
  const passwordStillValid =
    existingMailbox && mailboxPassword ? await argon2.verify(existingMailbox.passwordHash, mailboxPassword) : false;
  if (!passwordStillValid) {
    mailboxPassword = randomBytes(12).toString('base64url');
    const passwordHash = await argon2.hash(mailboxPassword, PASSWORD_HASH_OPTIONS);
    await repo.upsertMailbox(DEMO, { localPart: DEMO.mailbox, displayName: 'Hello Demo', passwordHash });
  }
  await repo.ensureFolders(DEMO.tenantId, DEMO.mailboxId, FOLDERS);

  const existingAdmin = await repo.findAdminByEmail(DEMO.adminEmail);
  let adminPassword = saved?.adminPassword;
  const adminStillValid =
    existingAdmin?.tenantId === DEMO.tenantId && adminPassword
      ? await argon2.verify(existingAdmin.passwordHash, adminPassword)
      : false;
  if (!adminStillValid) {
    if (existingAdmin && existingAdmin.tenantId !== DEMO.tenantId) {
      throw new Error(`${DEMO.adminEmail} exists and is not the demo tenant's admin`);
    }
    adminPassword = randomBytes(12).toString('base64url');
    const passwordHash = await argon2.hash(adminPassword, PASSWORD_HASH_OPTIONS);
    await repo.upsertTenantAdmin(DEMO.tenantId, { email: DEMO.adminEmail, displayName: 'Demo Admin', passwordHash });
  }

  let apiKey = saved?.apiKey;
  const activeKeys = await repo.activeApiKeys(DEMO.tenantId, DEMO.apiKeyName);
  const keyStillValid = apiKey !== undefined && activeKeys.some((k) => apiKeyMatches(apiKey!, k.keyHash));
  if (!keyStillValid) {
    // The saved key is gone (or never was): revoke what we cannot show and issue a new one.
    await repo.revokeApiKeys(DEMO.tenantId, DEMO.apiKeyName, new Date());
    const created = generateApiKey();
    await repo.createApiKey(DEMO.tenantId, {
      name: DEMO.apiKeyName,
      prefix: created.prefix,
      keyHash: created.hash,
      scopes: [...ALL_SCOPES],
      createdBy: 'seed',
    });
    apiKey = created.key;
  }

  const credentials: DemoCredentials = {
    tenantId: DEMO.tenantId,
    apiKey: apiKey!,
    mailbox: `${DEMO.mailbox}@${DEMO.domain}`,
    mailboxPassword: mailboxPassword!,
    adminEmail: DEMO.adminEmail,
    adminPassword: adminPassword!,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  return credentials;
}

function readSaved(file: string): Partial<DemoCredentials> | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DemoCredentials>;
  } catch {
    return null;
  }
}

import { createHmac, hkdfSync } from 'node:crypto';

/** What a cached login remembers: which mailbox, by which credential, at which auth_version. */
export interface CachedLogin {
  tenantId: string;
  mailboxId: string;
  /** null: the mailbox password; else the app password's id. */
  appPasswordId: string | null;
  authVersion: number;
}

interface Entry {
  value: CachedLogin;
  expiresAt: number;
}

/** The auth-cache key secret, derived from MASTER_KEY: the same on every replica, never stored. */
export function authCacheSecret(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom auth-cache v1', 32));
}

/**
 * Dovecot's auth cache: successful logins by a keyed hash of (service, login, password), so
 * neither the password nor a plain hash of it sits in memory. Bounded (least recently used
 * goes first) and with a time to live. It saves the argon2 run only: every hit is checked
 * against the mailbox row's auth_version by the caller.
 */
export class AuthCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly secret: Buffer,
    private readonly options: { size: number; ttlMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  key(service: string, login: string, password: string): string {
    // JSON, not separators: an IMAP literal may carry any byte (NUL too) in a login or password,
    // and no spelling may shift bytes from one field to the next.
    return createHmac('sha256', this.secret)
      .update(JSON.stringify([service, login, password]), 'utf8')
      .digest('base64url');
  }

  get(key: string): CachedLogin | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return null;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: CachedLogin): void {
    if (this.options.size <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.size) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

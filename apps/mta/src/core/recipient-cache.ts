import type { Logger } from 'pino';
import { NotifyListener } from '@mailroom/db';
import type { MailboxRow, NamedDomainRow } from './recipient.repository';

/**
 * Sent by every committed change to what a RCPT lookup reads (migration 20261205020000): the
 * payload is the tenant whose rows changed, or '*' (a TRUNCATE).
 */
export const RECIPIENTS_CHANNEL = 'mailroom_recipients';

/** A hit is used only while each of its mailboxes stays this far below its quota. */
const NEAR_FULL = 0.9;

interface Entry {
  value: NamedDomainRow;
  expiresAt: number;
}

/** A lookup under way: what happened while it read, which it must not miss. */
interface Load {
  /** A notification came: what it read may be older than the change. */
  stale: boolean;
  /** Bytes this process stored meanwhile; the read may predate their commit, so they are added. */
  charges: Map<string, bigint>;
}

export interface RecipientCacheOptions {
  /** Entries kept (least recently used goes first); 0 turns the cache off. */
  size: number;
  /** Backstop: an entry is read again after this long, whatever was heard. */
  ttlMs: number;
}

/**
 * The RCPT lookup (a domain by name, its tenant, and its mailboxes and aliases under the local
 * parts asked for) kept in this process, as Postfix's proxymap and Dovecot's auth cache keep
 * theirs: on a busy MX most recipients come again within seconds, and the lookup was a third of
 * the PostgreSQL round trips of a message. Correct only while it hears every change:
 * - the tables' triggers NOTIFY 'mailroom_recipients' with the tenant on commit (domains,
 *   tenants, mailboxes, aliases, and the rules that decide `hasRules`), and that tenant's
 *   entries are dropped;
 * - while the LISTEN connection is down (and until it is back) nothing is cached or served,
 *   since a notification may have been lost; it empties again when it is back;
 * - a load under way when a notification comes (for any tenant: a load does not know its tenant
 *   before it returns) is not kept, since it may have read the old rows.
 * A change is seen from the first RCPT after its notification arrives (milliseconds after the
 * commit); a LISTEN connection lost without an error is noticed by its self-probe within about
 * 10 s. A change made with triggers off (`session_replication_role = replica`, a restore with
 * `--disable-triggers`) sends nothing: restart the MTAs after one.
 * A mailbox's usage moves with every message and sends nothing, so (as TenantUsage does for the
 * plan limit) this process adds what it stores itself ({@link charge}) to the usage it read (also
 * to a lookup under way, which may have read before the commit: counted twice at worst), and
 * a hit is not used once any of its mailboxes would be within 10% of its quota: a nearly full
 * mailbox is read fresh each time, so space freed elsewhere is seen at once. What other
 * processes store is seen at the next load (the TTL); the commit checks each quota exactly, so
 * the worst a stale figure does is answer 452 at the end of DATA instead of at RCPT.
 */
export class RecipientCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByTenant = new Map<string, Set<string>>();
  /** The cached rows of each mailbox, so that {@link charge} can move their usage. */
  private readonly rowsByMailbox = new Map<string, Set<MailboxRow>>();
  private listening = false;
  private readonly loads = new Set<Load>();

  constructor(private readonly options: RecipientCacheOptions) {}

  /** Called by the listener: on (re)connect true, when the connection is lost false. */
  setListening(listening: boolean): void {
    this.clear();
    this.listening = listening && this.options.size > 0;
  }

  /**
   * The lookup for `name` with `localParts`, from memory when a live entry has room for
   * `declaredSize` more bytes in each of its mailboxes, else `load()`'s (kept unless null: an
   * unknown domain is not ours to remember).
   */
  async domain(
    name: string,
    localParts: string[],
    declaredSize: number,
    load: () => Promise<NamedDomainRow | null>,
  ): Promise<NamedDomainRow | null> {
    if (!this.listening) return load();
    const key = `${name}\n${localParts.join('\n')}`;
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.expiresAt > now && hasRoom(entry.value, declaredSize)) {
        // Most recently used last.
        this.entries.delete(key);
        this.entries.set(key, entry);
        return entry.value;
      }
      this.drop(key);
    }
    const pending: Load = { stale: false, charges: new Map() };
    this.loads.add(pending);
    let value: NamedDomainRow | null;
    try {
      value = await load();
    } finally {
      this.loads.delete(pending);
    }
    if (value && this.listening && !pending.stale) {
      for (const row of value.localParts.mailboxes.values()) row.usedBytes += pending.charges.get(row.id) ?? 0n;
      this.keep(key, value, now);
    }
    return value;
  }

  /** This process stored `bytes` in each of these mailboxes (after the commit). */
  charge(mailboxIds: Iterable<string>, bytes: number): void {
    const added = BigInt(bytes);
    for (const id of mailboxIds) {
      for (const row of this.rowsByMailbox.get(id) ?? []) row.usedBytes += added;
      for (const pending of this.loads) pending.charges.set(id, (pending.charges.get(id) ?? 0n) + added);
    }
  }

  /** What a notification asks: one tenant's entries dropped, or all of them ('*'). */
  forget(tenantId: string): void {
    if (tenantId === '*') {
      this.clear();
      return;
    }
    this.staleLoads();
    for (const key of [...(this.keysByTenant.get(tenantId) ?? [])]) this.drop(key);
  }

  /** Forgets everything, including loads under way. */
  clear(): void {
    this.staleLoads();
    this.entries.clear();
    this.keysByTenant.clear();
    this.rowsByMailbox.clear();
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Mailbox rows tracked for {@link charge} (for tests: never more than the entries hold). */
  get trackedRows(): number {
    let n = 0;
    for (const rows of this.rowsByMailbox.values()) n += rows.size;
    return n;
  }

  private staleLoads(): void {
    for (const pending of this.loads) pending.stale = true;
  }

  private keep(key: string, value: NamedDomainRow, now: number): void {
    // Two misses of one key at once both load: the second replaces the first, rows and all.
    this.drop(key);
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
    const keys = this.keysByTenant.get(value.tenantId) ?? new Set<string>();
    keys.add(key);
    this.keysByTenant.set(value.tenantId, keys);
    for (const row of value.localParts.mailboxes.values()) {
      const rows = this.rowsByMailbox.get(row.id) ?? new Set<MailboxRow>();
      rows.add(row);
      this.rowsByMailbox.set(row.id, rows);
    }
    if (this.entries.size > this.options.size) this.drop(this.entries.keys().next().value!);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const tenantId = entry.value.tenantId;
    const keys = this.keysByTenant.get(tenantId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByTenant.delete(tenantId);
    for (const row of entry.value.localParts.mailboxes.values()) {
      const rows = this.rowsByMailbox.get(row.id);
      rows?.delete(row);
      if (rows?.size === 0) this.rowsByMailbox.delete(row.id);
    }
  }
}

function hasRoom(value: NamedDomainRow, declaredSize: number): boolean {
  for (const row of value.localParts.mailboxes.values()) {
    if (Number(row.usedBytes) + declaredSize >= Number(row.quotaBytes) * NEAR_FULL) return false;
  }
  return true;
}

/**
 * The cache with its LISTEN connection (its own, not a pooled one). Until the first LISTEN
 * succeeds, and whenever it is lost, lookups go to the database.
 */
export async function startRecipientCache(options: {
  url: string;
  size: number;
  ttlMs: number;
  logger: Logger;
}): Promise<{ cache: RecipientCache; close(): Promise<void> }> {
  const cache = new RecipientCache({ size: options.size, ttlMs: options.ttlMs });
  if (options.size === 0) return { cache, close: async () => undefined };
  const listener = new NotifyListener({
    url: options.url,
    name: 'mailroom-mta-listen',
    channels: [RECIPIENTS_CHANNEL],
    logger: options.logger,
    onNotify: (_channel, payload) => cache.forget(payload),
    onConnect: () => cache.setListening(true),
    onDisconnect: () => cache.setListening(false),
  });
  await listener.start();
  return {
    cache,
    close: async () => {
      cache.setListening(false);
      await listener.close();
    },
  };
}

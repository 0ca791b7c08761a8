import type { DnsResolver } from './dns-resolver';

/** How long answers are kept; see {@link DnsCache}. */
export interface DnsCacheOptions {
  /** Seconds an answer is kept; 0 turns the cache off (every call asks DNS). */
  ttlSeconds: number;
  /** Seconds a "no such name" / "no such record" answer is kept, at most `ttlSeconds`. */
  negativeTtlSeconds?: number;
  /** Entries kept at most; the least recently used goes first. */
  maxEntries?: number;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

/** Lookup counters, for metrics and tests. */
export interface DnsCacheStats {
  hits: number;
  misses: number;
  size: number;
}

// Answers that say something about the zone (RFC 2308 negative answers): worth keeping.
// Timeouts, SERVFAIL and refusals say nothing about it and are asked again next time.
const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

// Each caller gets its own copy: a caller that sorts or edits an answer in place must not
// change what the next caller reads. Answers are arrays of strings, of string arrays (TXT) or
// of plain records (MX, SRV): copied directly, 7 to 10 times cheaper than structuredClone,
// which was 0.7% of the inbound MTA's CPU (several lookups per message). Anything else is
// left to structuredClone.
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out as T;
}

interface Entry {
  expires: number;
  value: Promise<unknown>;
}

/**
 * A bounded in-process cache of DNS answers, keyed by record type and name, shared by the
 * lookups of one process (mailauth's SPF/DKIM/DMARC queries on the inbound path, MX, MTA-STS
 * and address lookups on the outbound path).
 *
 * Node's resolver (c-ares) reports no TTL for TXT, MX or CNAME answers, so an answer is kept
 * for a fixed `ttlSeconds` (60 by default, `DNS_CACHE_TTL_SECONDS`): shorter than the TTL of
 * nearly every published mail record, as a local caching resolver would keep them for their
 * full TTL. Negative answers are kept for `negativeTtlSeconds`; failed lookups are not kept.
 * Concurrent callers of one name share one query.
 */
export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(options: DnsCacheOptions) {
    this.ttlMs = Math.max(0, options.ttlSeconds) * 1000;
    this.negativeTtlMs = Math.min(this.ttlMs, Math.max(0, options.negativeTtlSeconds ?? 15) * 1000);
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  stats(): DnsCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }

  clear(): void {
    this.entries.clear();
  }

  /** The answer for (`type`, `name`), from the cache while it is fresh, otherwise from `ask`. */
  lookup<T>(type: string, name: string, ask: () => Promise<T>): Promise<T> {
    if (!this.enabled) return ask();
    const key = `${type.toUpperCase()} ${name.toLowerCase().replace(/\.$/, '')}`;
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && entry.expires > now) {
      this.hits += 1;
      // Least recently used goes first: move a hit to the end of the insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return (entry.value as Promise<T>).then(copy);
    }
    this.misses += 1;
    const value = ask();
    const fresh: Entry = { expires: now + this.ttlMs, value };
    this.store(key, fresh);
    value.catch((error: unknown) => {
      if (this.entries.get(key) !== fresh) return;
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && NEGATIVE_CODES.has(code) && this.negativeTtlMs > 0) {
        fresh.expires = now + this.negativeTtlMs;
      } else {
        this.entries.delete(key);
      }
    });
    return value.then(copy);
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** `resolver` with every lookup answered through `cache`. */
export function cachingResolver(resolver: DnsResolver, cache: DnsCache): DnsResolver {
  return {
    resolveTxt: (name) => cache.lookup('TXT', name, () => resolver.resolveTxt(name)),
    resolveMx: (name) => cache.lookup('MX', name, () => resolver.resolveMx(name)),
    resolveCname: (name) => cache.lookup('CNAME', name, () => resolver.resolveCname(name)),
    resolveSrv: (name) => cache.lookup('SRV', name, () => resolver.resolveSrv(name)),
    resolve4: (name) => cache.lookup('A', name, () => resolver.resolve4(name)),
    resolve6: (name) => cache.lookup('AAAA', name, () => resolver.resolve6(name)),
    reverse: (ip) => cache.lookup('PTR', ip, () => resolver.reverse(ip)),
  };
}

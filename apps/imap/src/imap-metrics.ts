import type { BlobCacheStats } from '@mailroom/mailstore';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the IMAP side (prefixed mailroom_imap_). */
export interface ImapMetrics {
  sessions: Gauge;
  /** Open sessions with COMPRESS=DEFLATE on. */
  compressedSessions: Gauge;
  logins: Counter<'result'>;
  commands: Counter<'command'>;
  /** Connections refused at accept (per-ip: IMAP_MAX_CONNECTIONS_PER_IP). */
  refused: Counter<'reason'>;
}

/** Registers the IMAP metrics on the app's registry (the ops server's /metrics). */
export function createImapMetrics(registry: Registry): ImapMetrics {
  return {
    sessions: new Gauge({ name: 'mailroom_imap_sessions', help: 'Open IMAP sessions', registers: [registry] }),
    compressedSessions: new Gauge({
      name: 'mailroom_imap_compressed_sessions',
      help: 'Open IMAP sessions with COMPRESS=DEFLATE active',
      registers: [registry],
    }),
    logins: new Counter({
      name: 'mailroom_imap_logins_total',
      help: 'IMAP logins by result (ok or the refusal reason)',
      labelNames: ['result'],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'mailroom_imap_commands_total',
      help: 'IMAP commands by name',
      labelNames: ['command'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'mailroom_imap_connections_refused_total',
      help: 'IMAP connections refused at accept, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/**
 * The body cache of the mail store (IMAP_BODY_CACHE_MB), read when /metrics is scraped: hits and
 * misses since start, and the bytes and bodies it holds.
 */
export function registerBodyCacheMetrics(registry: Registry, store: { blobCacheStats(): BlobCacheStats | null }): void {
  const gauge = (name: string, help: string, pick: (s: BlobCacheStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = store.blobCacheStats();
        this.set(stats ? pick(stats) : 0);
      },
    });
  gauge('mailroom_imap_body_cache_hits', 'Message bodies served from the body cache since start', (s) => s.hits);
  gauge('mailroom_imap_body_cache_misses', 'Message bodies the body cache did not hold, since start', (s) => s.misses);
  gauge('mailroom_imap_body_cache_bytes', 'Bytes of message bodies in the body cache', (s) => s.bytes);
  gauge('mailroom_imap_body_cache_entries', 'Message bodies in the body cache', (s) => s.entries);
}

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

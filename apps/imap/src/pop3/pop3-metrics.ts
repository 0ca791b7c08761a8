import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the POP3 side (prefixed mailroom_pop3_), beside IMAP's on the health port. */
export interface Pop3Metrics {
  sessions: Gauge;
  logins: Counter<'result'>;
  commands: Counter<'command'>;
  refused: Counter<'reason'>;
}

export function createPop3Metrics(registry: Registry): Pop3Metrics {
  return {
    sessions: new Gauge({ name: 'mailroom_pop3_sessions', help: 'Open POP3 sessions', registers: [registry] }),
    logins: new Counter({
      name: 'mailroom_pop3_logins_total',
      help: 'POP3 logins by result (ok, the refusal reason, in-use, temp-fail or revoked)',
      labelNames: ['result'],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'mailroom_pop3_commands_total',
      help: 'POP3 commands by name (unknown for any other word)',
      labelNames: ['command'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'mailroom_pop3_connections_refused_total',
      help: 'POP3 connections refused at accept, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

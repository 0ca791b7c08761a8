import { setTimeout as sleep } from 'node:timers/promises';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';
import { basicMessage } from '@test/support/smtp/harness';

/** The client's record of one message: the final reply it saw, or null when none came. */
export interface Outcome {
  index: number;
  /** The MX port the session talked to. */
  port: number;
  /** Recipients whose RCPT got 250: with a final 250, exactly the ones the server took. */
  accepted: string[];
  /** 250, a 4xx/5xx code, or null: the connection broke or never opened before a final answer. */
  code: number | null;
  text: string;
  at: number;
}

export interface BurstOptions {
  /** Inbound MX ports; connection n talks to ports[n % ports.length]. */
  ports: number[];
  /** Which messages to send (the index names one: Subject `burst <index>`), and to whom. */
  jobs: BurstJob[];
  connections: number;
  from: string;
  /** Stop reconnecting (and leave the rest unsent) once this returns true. */
  giveUp?: () => boolean;
  /** Called after each final reply, in order of arrival. */
  onOutcome?: (o: Outcome) => void;
  /** A session waits this long after a reply other than 250 (a sender's back-off). */
  pauseAfterFailureMs?: number;
  /** Per-transaction limit; a stuck server counts as no answer. */
  transactionTimeoutMs?: number;
}

export interface BurstJob {
  index: number;
  recipients: string[];
}

export const subjectOf = (index: number) => `burst ${index}`;

/**
 * A client-side ledger writer: `connections` SMTP sessions pull the next message from one list
 * and record each final reply. A broken connection records `null` for the message in flight and
 * reconnects (a real sending MTA keeps it queued and retries later).
 */
export async function burst(options: BurstOptions): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  const queue = [...options.jobs];
  const record = (port: number, index: number, code: number | null, text: string, accepted: string[] = []) => {
    const o = { index, port, code, text, accepted, at: Date.now() };
    outcomes.set(index, o);
    options.onOutcome?.(o);
  };
  const session = async (n: number) => {
    const port = options.ports[n % options.ports.length]!;
    while (queue.length > 0) {
      let client: RawSmtp;
      try {
        client = await RawSmtp.connect(port);
        if ((await client.command('EHLO client.test')).code !== 250) throw new Error('EHLO refused');
      } catch {
        if (options.giveUp?.()) return;
        await sleep(100);
        continue;
      }
      try {
        while (queue.length > 0) {
          const { index, recipients } = queue.shift()!;
          try {
            const body = basicMessage(options.from, recipients.join(', '), subjectOf(index));
            const replies = await withTimeout(
              transaction(client, options.from, recipients, body),
              options.transactionTimeoutMs ?? 30_000,
              () => client.close(),
            );
            const last = replies.at(-1)!;
            const accepted = recipients.filter((_, i) => replies[i + 1]?.code === 250);
            record(port, index, last.code, last.text, last.code === 250 ? accepted : []);
            if (last.code !== 250) {
              // A 421 here is the server closing the session (too many errors), not an answer to RSET.
              const open =
                !client.isClosed &&
                (await client.command('RSET').then(
                  (r) => r.code === 250,
                  () => false,
                ));
              await sleep(options.pauseAfterFailureMs ?? 0);
              if (!open) break;
            }
          } catch (err) {
            record(port, index, null, String(err));
            await sleep(options.pauseAfterFailureMs ?? 0);
            break;
          }
        }
      } finally {
        client.close();
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, n) => session(n)));
  return outcomes;
}

async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout();
          reject(new Error(`no final reply within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Counts outcomes by reply class: '250', '4xx', '5xx', 'none'. */
export function byClass(outcomes: Iterable<Outcome>): Record<'250' | '4xx' | '5xx' | 'none', number> {
  const counts = { '250': 0, '4xx': 0, '5xx': 0, none: 0 };
  for (const o of outcomes) {
    if (o.code === null) counts.none++;
    else if (o.code === 250) counts['250']++;
    else if (o.code >= 400 && o.code < 500) counts['4xx']++;
    else counts['5xx']++;
  }
  return counts;
}

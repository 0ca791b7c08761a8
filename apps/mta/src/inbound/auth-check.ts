// First: mailauth's DKIM and ARC verifiers must load after it (see dkim-key-cache.ts).
import './dkim-key-cache';
import './spf-cidr-cache';
import './mailauth-fast-paths';
import type { Readable } from 'node:stream';
import { authenticate, type AuthStatus, type DNSResolver } from 'mailauth';
import type { AuthResult } from '@mailroom/rules';
import { messageStream, type SpooledMessage } from '../core/message-spool';

/** SPF, DKIM, DMARC and ARC verdicts of one message, as stored in messages.auth_results. */
export interface AuthVerdict {
  spf: AuthResult;
  dkim: AuthResult;
  dmarc: AuthResult;
  arc: AuthResult;
  /** DMARC policy of the From domain when DMARC failed (none, quarantine, reject). */
  dmarcPolicy: string | null;
  /** Received-SPF and Authentication-Results header fields, CRLF-terminated. */
  headers: string;
  /** Set when the check itself could not run (DNS down): every verdict is temperror. */
  error?: string;
}

export interface AuthCheckInput {
  message: SpooledMessage;
  ip: string;
  helo: string;
  sender: string;
}

function normalize(result: AuthStatus['result'] | undefined): AuthResult {
  switch (result) {
    case 'pass':
    case 'fail':
    case 'softfail':
    case 'neutral':
    case 'temperror':
    case 'permerror':
      return result;
    case 'temperr':
      return 'temperror';
    case 'policy':
      return 'neutral';
    case 'none':
    case 'skipped':
    case undefined:
      return 'none';
  }
}

/**
 * Runs mailauth over the received message (a file stream for a spooled one, so a large message
 * is not held in memory for it), asking DNS only through the configured resolver. A check that cannot finish
 * in time never blocks delivery: it is recorded as temperror and the message goes on.
 */
export class AuthChecker {
  constructor(
    private readonly mta: string,
    private readonly resolver: DNSResolver,
    private readonly timeoutMs: number,
  ) {}

  async check(input: AuthCheckInput): Promise<AuthVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('authentication checks timed out')), this.timeoutMs);
    });
    const stream = messageStream(input.message);
    try {
      return await Promise.race([this.run(stream, input), timeout]);
    } catch (err) {
      return this.unavailable(err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
      stream.destroy();
    }
  }

  private async run(stream: Readable, input: AuthCheckInput): Promise<AuthVerdict> {
    const result = await authenticate(stream, {
      ip: input.ip,
      helo: input.helo,
      sender: input.sender,
      mta: this.mta,
      resolver: this.resolver,
      disableBimi: true,
    });
    const dkimResults = result.dkim?.results ?? [];
    const dkim = dkimResults.some((r) => r.status.result === 'pass')
      ? 'pass'
      : normalize(dkimResults[0]?.status.result);
    const dmarc = normalize(result.dmarc ? result.dmarc.status.result : undefined);
    return {
      spf: normalize(result.spf ? result.spf.status.result : undefined),
      dkim,
      dmarc,
      arc: normalize(result.arc ? result.arc.status.result : undefined),
      dmarcPolicy: dmarc === 'fail' && result.dmarc ? result.dmarc.policy : null,
      headers: result.headers.replace(/\r?\n/g, '\r\n'),
    };
  }

  private unavailable(message: string): AuthVerdict {
    const reason = message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
    return {
      spf: 'temperror',
      dkim: 'temperror',
      dmarc: 'temperror',
      arc: 'temperror',
      dmarcPolicy: null,
      headers: `Authentication-Results: ${this.mta}; none (checks could not run: ${reason})\r\n`,
      error: message,
    };
  }
}

import { isIPv4 } from 'node:net';
import type { PrismaClient } from '@mailroom/db';

const PENDING_TTL_HOURS = 24;
const PASSED_TTL_DAYS = 35;

/** The client's network for greylisting: /24 for IPv4, /64 for IPv6 (senders rotate addresses). */
export function greylistNetwork(ip: string): string {
  const address = ip.replace(/^::ffff:/i, '');
  if (isIPv4(address)) return address.split('.').slice(0, 3).join('.');
  return address.split(':').slice(0, 4).join(':');
}

/**
 * Greylisting (off unless GREYLIST_ENABLED): the first delivery attempt of a new (network,
 * sender, recipient) triplet is deferred; a retry after GREYLIST_DELAY_SECONDS passes, and the
 * triplet stays known for a month. Real MTAs retry; most spam software does not.
 */
export class Greylist {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly delaySeconds: number,
  ) {}

  /** True when the triplet may deliver now. */
  async passes(ip: string, sender: string, recipient: string): Promise<boolean> {
    const key = `${greylistNetwork(ip)}|${sender.toLowerCase()}|${recipient.toLowerCase()}`;
    const rows = await this.prisma.$queryRaw<Array<{ inserted: boolean; passed: boolean; due: boolean }>>`
      INSERT INTO greylist (key, expires_at) VALUES (${key}, now() + make_interval(hours => ${PENDING_TTL_HOURS}::int))
      ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
      RETURNING (xmax = 0) AS inserted, passed_at IS NOT NULL AND expires_at > now() AS passed,
        first_seen_at <= now() - make_interval(secs => ${this.delaySeconds}::float8) AS due`;
    const row = rows[0];
    if (!row || row.inserted) return false;
    if (row.passed) return true;
    if (!row.due) return false;
    await this.prisma.$executeRaw`
      UPDATE greylist SET passed_at = now(), expires_at = now() + make_interval(days => ${PASSED_TTL_DAYS}::int)
      WHERE key = ${key}`;
    return true;
  }
}

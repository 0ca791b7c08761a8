import { isIPv4 } from 'node:net';
import type { GreylistRepository } from './greylist.repository';

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
    private readonly triplets: GreylistRepository,
    private readonly delaySeconds: number,
  ) {}

  /** True when the triplet may deliver now. */
  async passes(ip: string, sender: string, recipient: string): Promise<boolean> {
    const key = `${greylistNetwork(ip)}|${sender.toLowerCase()}|${recipient.toLowerCase()}`;
    const row = await this.triplets.sight(key, this.delaySeconds);
    if (!row || row.inserted) return false;
    if (row.passed) return true;
    if (!row.due) return false;
    await this.triplets.markPassed(key);
    return true;
  }
}

import { createRequire } from 'node:module';

/** ipaddr.js's parseCIDR: an address and a prefix length, or an error for anything else. */
type ParseCidr = ((range: string) => readonly [unknown, number]) & { cached?: true };

/** Distinct ranges kept: every ip4/ip6 term of the SPF records senders use, many times over. */
const MAX_ENTRIES = 10_000;

/**
 * The longest range text kept: an IPv6 address (45 characters at most, IPv4-mapped) and "/128".
 * Anything longer (an IPv6 zone index, "fe80::1%<anything>/64", passes Node's isIP at any length)
 * is parsed each time, so a sender's records cannot fill the memo with large strings.
 */
const MAX_RANGE_LENGTH = 49;

/**
 * mailauth's SPF check tests the client against each ip4/ip6 term of the sender's record (and
 * of every record it includes) with ipaddr.js's parseCIDR, per message. parseCIDR tries the
 * range as IPv6 first and builds a thrown Error (stack trace and all) before it tries IPv4, so
 * every IPv4 range costs about 12 µs here, and a large sender's record has dozens of them. The
 * same range text always parses to the same range, so this keeps each answer: a parsed range
 * (frozen; mailauth only compares addresses against it) or the error it raised, thrown again.
 * It patches the copy of ipaddr.js that mailauth's SPF module loads (mailauth reads
 * `ipaddr.parseCIDR` at each call, so the order of loading does not matter).
 */
export function cacheSpfRanges(): void {
  const fromSpf = createRequire(require.resolve('mailauth/lib/spf/spf-verify'));
  const ipaddr = fromSpf('ipaddr.js') as { parseCIDR: ParseCidr };
  const original = ipaddr.parseCIDR;
  if (original.cached) return;
  const answers = new Map<string, readonly [unknown, number] | Error>();
  const cached: ParseCidr = (range) => {
    if (typeof range !== 'string' || range.length > MAX_RANGE_LENGTH) return original(range);
    let answer = answers.get(range);
    if (answer === undefined) {
      try {
        answer = Object.freeze(original(range));
      } catch (err) {
        answer = err instanceof Error ? err : new Error(String(err));
      }
      if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value as string);
      answers.set(range, answer);
    }
    if (answer instanceof Error) throw answer;
    return answer;
  };
  ipaddr.parseCIDR = Object.assign(cached, { cached: true as const });
}

cacheSpfRanges();

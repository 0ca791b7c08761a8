import type { DnsRecord } from './dns-plan';
import { checkCname, checkMx, checkPtr, checkSrv } from './dns-check-hosts';
import { failed, missing, mismatch, ok, type CheckOutcome, type DnsCheckResult } from './dns-check-result';
import { lookup, type DnsResolver } from './dns-resolver';
import { countSpfLookups, isSpfRecord, mergeSpf, parseSpf, SPF_LOOKUP_LIMIT } from './spf';
import { parseTagList } from './tag-list';

export interface CheckDomainDnsOptions {
  /** The platform's SPF include (config): the domain's SPF must contain `include:<it>`. */
  spfInclude: string;
  /** Stop counting SPF lookups after this many (bounds the queries made); default 20. */
  spfLookupCap?: number;
}

/**
 * Resolves every record of the plan through `resolver` and says, per record, whether it is
 * right, missing, wrong (naming the classic mistake) or could not be checked. The records are
 * checked concurrently; nothing here writes anywhere.
 */
export async function checkDomainDns(
  plan: readonly DnsRecord[],
  resolver: DnsResolver,
  options: CheckDomainDnsOptions,
): Promise<DnsCheckResult[]> {
  return Promise.all(
    plan.map(async (record) => {
      const outcome = await checkRecord(record, resolver, options);
      return {
        key: record.key,
        type: record.type,
        name: record.name,
        expected: expectedText(record),
        required: record.required,
        ...(record.keyStatus ? { keyStatus: record.keyStatus } : {}),
        ...outcome,
      };
    }),
  );
}

/** The expected record in presentation form, as `found` shows what was there. */
export function expectedText(record: DnsRecord): string {
  switch (record.type) {
    case 'MX':
      return `${record.priority ?? 10} ${record.value}`;
    case 'SRV':
      return `${record.priority ?? 0} ${record.weight ?? 0} ${record.port ?? 0} ${record.value}`;
    case 'TXT':
    case 'CNAME':
    case 'PTR':
      return record.value;
  }
}

function checkRecord(record: DnsRecord, resolver: DnsResolver, options: CheckDomainDnsOptions): Promise<CheckOutcome> {
  const key = record.key;
  if (key === 'spf') return checkSpf(record, resolver, options);
  if (key === 'dmarc') return checkDmarc(record, resolver);
  if (key.startsWith('dkim:')) return checkDkim(record, resolver);
  if (key === 'mta-sts') return checkVersioned(record, resolver, 'v=STSv1', 'id');
  if (key === 'tls-rpt') return checkVersioned(record, resolver, 'v=TLSRPTv1', 'rua');
  switch (record.type) {
    case 'TXT':
      return checkTxtExact(record, resolver);
    case 'MX':
      return checkMx(record, resolver);
    case 'SRV':
      return checkSrv(record, resolver);
    case 'CNAME':
      return checkCname(record, resolver);
    case 'PTR':
      return checkPtr(record, resolver);
  }
}

/** TXT records at the name, each one's strings concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
async function txtAt(name: string, resolver: DnsResolver) {
  const result = await lookup(() => resolver.resolveTxt(name));
  return result.kind === 'found' ? { ...result, value: result.value.map((chunks) => chunks.join('')) } : result;
}

async function checkTxtExact(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const txt = await txtAt(record.name, resolver);
  if (txt.kind === 'failed') return failed(record, txt.code);
  if (txt.kind === 'absent') return missing(`There is no TXT record at ${record.name}: add "${record.value}".`);
  if (txt.value.includes(record.value)) return ok(txt.value, `${record.name} has the expected TXT record.`);
  return mismatch(
    txt.value,
    `The TXT record at ${record.name} is not "${record.value}": check for a typo or an old token.`,
  );
}

async function checkSpf(
  record: DnsRecord,
  resolver: DnsResolver,
  options: CheckDomainDnsOptions,
): Promise<CheckOutcome> {
  const txt = await txtAt(record.name, resolver);
  if (txt.kind === 'failed') return failed(record, txt.code);
  const spf = txt.kind === 'found' ? txt.value.filter(isSpfRecord) : [];
  const single = spf[0];
  if (single === undefined) return missing(`${record.name} has no SPF record: publish "${record.value}".`);
  const merged = mergeSpf(spf, options.spfInclude).record;
  // RFC 7208 §3.2 and §4.5: two SPF records make every receiver return permerror.
  if (spf.length > 1) {
    return mismatch(
      spf,
      `${record.name} has ${spf.length} SPF records, so receivers fail SPF for all of its mail; replace them with the single record "${merged}".`,
    );
  }
  const parsed = parseSpf(single);
  if (!parsed.ok) {
    return mismatch(spf, `The SPF record of ${record.name} is malformed (${parsed.message}); publish "${merged}".`);
  }
  const ours = parsed.terms.some(
    (t) =>
      t.kind === 'mechanism' && t.name === 'include' && t.value?.toLowerCase() === options.spfInclude.toLowerCase(),
  );
  if (!ours) {
    return mismatch(
      spf,
      `The SPF record of ${record.name} does not include ${options.spfInclude}: replace it with "${merged}" (one record, not a second one).`,
    );
  }
  if (parsed.terms.some((t) => t.kind === 'mechanism' && t.name === 'all' && t.qualifier === '+')) {
    return mismatch(
      spf,
      `The SPF record of ${record.name} ends in +all, which lets anyone send as ${record.name}; use -all or ~all.`,
    );
  }
  return spfLookups(record, single, resolver, options.spfLookupCap ?? 20);
}

/** The lookup count of a record that is otherwise right (RFC 7208 §4.6.4), and broken includes. */
async function spfLookups(record: DnsRecord, spf: string, resolver: DnsResolver, cap: number): Promise<CheckOutcome> {
  const count = await countSpfLookups(spf, (name) => resolver.resolveTxt(name), { cap });
  const details = count.problems.length > 0 ? ` ${count.problems.join(' ')}` : '';
  if (count.exceeded) {
    const lookups = `${count.lookups}${count.lookups >= cap ? ' or more' : ''}`;
    return mismatch(
      [spf],
      `The SPF record of ${record.name} needs ${lookups} DNS lookups, over the limit of ${SPF_LOOKUP_LIMIT} (RFC 7208 §4.6.4), so receivers fail SPF: remove includes you no longer use or replace them with ip4:/ip6: ranges.${details}`,
    );
  }
  if (count.permerror) {
    return mismatch([spf], `The SPF record of ${record.name} is broken, so receivers fail SPF:${details}`);
  }
  if (!count.complete) {
    return { status: 'error', found: [spf], message: `Could not count all SPF lookups of ${record.name}.${details}` };
  }
  const summary = `${count.lookups} of ${SPF_LOOKUP_LIMIT} DNS lookups`;
  return ok([spf], `The SPF record of ${record.name} authorises Mailroom (${summary}).`);
}

async function checkDkim(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const txt = await txtAt(record.name, resolver);
  if (txt.kind === 'failed') return failed(record, txt.code);
  const keys = txt.kind === 'found' ? txt.value.filter((t) => /(^|;)\s*(v\s*=\s*DKIM1|p\s*=)/i.test(t)) : [];
  const selector = record.key.slice('dkim:'.length);
  if (keys.length === 0) {
    return missing(`There is no DKIM key at ${record.name}: publish the key for selector ${selector}.`);
  }
  if (keys.length > 1) {
    return mismatch(keys, `${record.name} has ${keys.length} DKIM key records; keep only Mailroom's.`);
  }
  const found = parseTagList(keys[0] ?? '');
  // RFC 6376 §3.6.1: p= is base64 and may be folded with whitespace.
  const published = found?.get('p')?.replace(/\s+/g, '') ?? null;
  const expected = parseTagList(record.value)?.get('p') ?? '';
  if (published === null) return mismatch(keys, `The DKIM record at ${record.name} is malformed: it has no p= tag.`);
  if (published === expected) return ok(keys, `The DKIM key for selector ${selector} is published correctly.`);
  if (published === '') {
    return mismatch(keys, `The DKIM key at ${record.name} is revoked (empty p=): publish Mailroom's key.`);
  }
  if (expected.startsWith(published)) {
    return mismatch(
      keys,
      `The DKIM key at ${record.name} is cut short: a value over 255 bytes must be entered as several quoted strings in one TXT record.`,
    );
  }
  return mismatch(
    keys,
    `DKIM key mismatch at ${record.name}: the published key is not the one Mailroom signs with (an old or another provider's key?); replace it with the planned value.`,
  );
}

const POLICY_RANK: Record<string, number> = { none: 0, quarantine: 1, reject: 2 };

async function checkDmarc(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const txt = await txtAt(record.name, resolver);
  if (txt.kind === 'failed') return failed(record, txt.code);
  if (txt.kind === 'absent') {
    return missing(
      `${record.name} has no DMARC record: receivers cannot tell spoofed mail from yours; publish "${record.value}".`,
    );
  }
  // RFC 7489 §6.6.3: records not starting with v=DMARC1 are discarded; more than one means none.
  const dmarc = txt.value.filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.trim()));
  if (dmarc.length === 0) {
    return mismatch(
      txt.value,
      `The DMARC record at ${record.name} is malformed: it must start with "v=DMARC1;", so receivers ignore it.`,
    );
  }
  if (dmarc.length > 1) {
    return mismatch(
      dmarc,
      `${record.name} has ${dmarc.length} DMARC records, so receivers ignore all of them; keep one.`,
    );
  }
  const tags = parseTagList(dmarc[0] ?? '');
  const policy = tags?.get('p')?.toLowerCase() ?? '';
  if (!tags || !(policy in POLICY_RANK)) {
    return mismatch(dmarc, `The DMARC record at ${record.name} is malformed: p= must be none, quarantine or reject.`);
  }
  const plannedTags = parseTagList(record.value);
  const planned = plannedTags?.get('p') ?? 'none';
  const ourRua = (plannedTags?.get('rua') ?? '').toLowerCase();
  // RFC 7489 §6.4: rua is a comma-separated list of URIs, each optionally followed by !size.
  const rua = (tags.get('rua') ?? '').split(',').map((u) => u.trim().replace(/!.*$/, '').toLowerCase());
  if ((POLICY_RANK[policy] ?? 0) < (POLICY_RANK[planned] ?? 0)) {
    return mismatch(dmarc, `The DMARC policy of ${record.name} is p=${policy}, weaker than the planned p=${planned}.`);
  }
  if (ourRua && !rua.includes(ourRua)) {
    return mismatch(
      dmarc,
      `The DMARC record of ${record.name} does not send aggregate reports to ${ourRua}: add it to rua=.`,
    );
  }
  return ok(dmarc, `The DMARC record of ${record.name} is valid (p=${policy}).`);
}

/** MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3): exactly one record with the version, and one tag that must match. */
async function checkVersioned(
  record: DnsRecord,
  resolver: DnsResolver,
  version: string,
  tag: string,
): Promise<CheckOutcome> {
  const txt = await txtAt(record.name, resolver);
  if (txt.kind === 'failed') return failed(record, txt.code);
  const prefix = new RegExp(`^${version.replace('=', '\\s*=\\s*')}\\s*(;|$)`, 'i');
  const found = txt.kind === 'found' ? txt.value.filter((t) => prefix.test(t.trim())) : [];
  if (found.length === 0) return missing(`There is no ${version} record at ${record.name}: publish "${record.value}".`);
  if (found.length > 1) {
    return mismatch(found, `${record.name} has ${found.length} ${version} records, so senders ignore them; keep one.`);
  }
  const want = parseTagList(record.value)?.get(tag)?.toLowerCase() ?? '';
  const have = (parseTagList(found[0] ?? '')?.get(tag) ?? '').toLowerCase();
  const matches =
    tag === 'rua'
      ? have
          .split(',')
          .map((u) => u.trim())
          .includes(want)
      : have === want;
  if (matches) return ok(found, `The ${version} record at ${record.name} is right.`);
  const why =
    tag === 'id' ? ' senders keep their cached policy until the id changes.' : ' reports will not reach Mailroom.';
  return mismatch(found, `The ${version} record at ${record.name} has ${tag}=${have || '(none)'}, not ${want}:${why}`);
}

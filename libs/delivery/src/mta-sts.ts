import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { DnsResolver } from '@mailroom/dns';

export interface MtaStsPolicy {
  id: string;
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAgeSeconds: number;
}

/** Parses a policy file (RFC 8461 §3.2): `key: value` lines; null when it is not a valid policy. */
export function parseMtaStsPolicy(text: string, id: string): MtaStsPolicy | null {
  const fields = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([a-z_]+)\s*:\s*(.*?)\s*$/i.exec(line);
    if (m) fields.set(m[1]!.toLowerCase(), [...(fields.get(m[1]!.toLowerCase()) ?? []), m[2]!]);
  }
  const mode = fields.get('mode')?.[0];
  const maxAge = Number(fields.get('max_age')?.[0]);
  if (fields.get('version')?.[0] !== 'STSv1' || (mode !== 'enforce' && mode !== 'testing' && mode !== 'none')) {
    return null;
  }
  if (!Number.isInteger(maxAge) || maxAge < 0) return null;
  return {
    id,
    mode,
    mx: (fields.get('mx') ?? []).map((p) => p.toLowerCase()),
    maxAgeSeconds: Math.min(maxAge, 31_557_600),
  };
}

/** RFC 8461 §4.1: an MX host matches a pattern exactly, or `*.example.com` matches one label. */
export function mxMatches(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) =>
    p.startsWith('*.') ? h.endsWith(p.slice(1)) && !h.slice(0, -(p.length - 1)).includes('.') : h === p,
  );
}

export interface MtaStsOptions {
  /** Port of the policy host (443; tests use another). */
  port?: number;
  /** Extra trust anchors for the policy host and for MX certificates (tests). */
  ca?: string | Buffer;
  /** Idle timeout of a policy fetch (10 s); the whole fetch gets three times that. */
  timeoutMs?: number;
}

/**
 * Finds a domain's MTA-STS policy (RFC 8461): the `_mta-sts` TXT record names the policy id,
 * the policy itself comes over HTTPS from `mta-sts.<domain>` with a valid certificate (host
 * names resolved through our own resolver). Policies are cached for their max_age and
 * refreshed when the TXT id changes; a failed refresh keeps the cached policy (§5.1).
 */
export class MtaStsResolver {
  private readonly cache = new Map<string, { policy: MtaStsPolicy; expires: number }>();

  constructor(
    private readonly resolver: DnsResolver,
    private readonly options: MtaStsOptions = {},
  ) {}

  async policyFor(domain: string, now = Date.now()): Promise<MtaStsPolicy | null> {
    const cached = this.cache.get(domain);
    const valid = cached && cached.expires > now ? cached.policy : null;
    let id: string | null;
    try {
      const txt = (await this.resolver.resolveTxt(`_mta-sts.${domain}`)).map((parts) => parts.join(''));
      id = txt.map((t) => /^v=STSv1;\s*id=([A-Za-z0-9]{1,32})\s*;?/.exec(t)?.[1]).find((x) => x) ?? null;
    } catch {
      return valid; // no record or no answer: a cached policy still applies
    }
    if (!id) return valid;
    if (valid && valid.id === id) return valid;
    try {
      const text = await this.fetch(domain);
      const policy = parseMtaStsPolicy(text, id);
      if (!policy) return valid;
      this.cache.set(domain, { policy, expires: now + policy.maxAgeSeconds * 1000 });
      return policy;
    } catch {
      return valid;
    }
  }

  private fetch(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    // Resolve through DNS_SERVERS, never the system resolver. Node asks for all addresses
    // (autoSelectFamily) or for one, depending on the caller: answer both shapes.
    const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      this.resolver.resolve4(hostname).then(
        (ips) => {
          if (!ips[0]) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
          return options?.all
            ? callback(
                null,
                ips.map((address) => ({ address, family: 4 })),
              )
            : callback(null, ips[0], 4);
        },
        (err: NodeJS.ErrnoException) => callback(err),
      );
    }) as unknown as LookupFunction;
    let request: ReturnType<typeof https.get> | undefined;
    const fetched = new Promise<string>((resolve, reject) => {
      const req = https.get(
        {
          host,
          servername: host,
          port: this.options.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          lookup,
          ca: this.options.ca,
          timeout: this.options.timeoutMs ?? 10_000,
        },
        (res) => {
          // §3.3: no redirects, 200 only, text/plain, and a small body.
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`policy fetch answered ${res.statusCode}`));
          }
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            if (body.length > 64 * 1024) req.destroy(new Error('policy too large'));
          });
          res.on('end', () => resolve(body));
        },
      );
      request = req;
      req.on('timeout', () => req.destroy(new Error('policy fetch timed out')));
      req.on('error', reject);
    });
    // The idle timeout alone lets a host that sends a byte now and then hold the fetch (and the
    // delivery job, its destination slot and its claim) for days: the whole fetch has a deadline.
    const idleMs = this.options.timeoutMs ?? 10_000;
    let deadline: NodeJS.Timeout | undefined;
    return Promise.race([
      fetched,
      new Promise<never>((_resolve, reject) => {
        deadline = setTimeout(() => {
          request?.destroy();
          reject(new Error(`policy fetch took longer than ${idleMs * 3} ms`));
        }, idleMs * 3);
      }),
    ]).finally(() => clearTimeout(deadline));
  }
}

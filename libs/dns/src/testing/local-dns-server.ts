import dgram from 'node:dgram';
import dns2 from 'dns2';
import { parseBindZone, splitTxt, type ZoneRecord } from '../zone';
import { lookupZone } from './zone-lookup';

const { Packet } = dns2;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const TYPES = new Map(Object.entries(Packet.TYPE).map(([name, code]) => [code, name]));

/**
 * A real DNS server on 127.0.0.1 (dns2 over UDP, a free port) answering from a BIND zone the test
 * writes, for integration tests of the checks through node's resolver. Answers carry TTL 0 so
 * nothing is cached between checks. Names listed in `servfail` are answered with SERVFAIL.
 */
export class LocalDnsServer {
  private records: ZoneRecord[] = [];
  private readonly servfail = new Set<string>();

  private constructor(
    private readonly server: dns2.DnsServer,
    readonly port: number,
  ) {}

  /** Starts a server on 127.0.0.1 and a free UDP port, serving `zone`. */
  static async start(zone = ''): Promise<LocalDnsServer> {
    let self: LocalDnsServer | null = null;
    const server = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        void send(self ? self.answer(request) : refuse(request, SERVFAIL));
      },
    });
    const { udp } = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
    self = new LocalDnsServer(server, udp.port);
    self.serve(zone);
    return self;
  }

  /** Replaces the served zone (BIND syntax); `servfail` names are answered with SERVFAIL. */
  serve(zone: string, servfail: readonly string[] = []): void {
    this.records = parseBindZone(zone);
    this.servfail.clear();
    for (const name of servfail) this.servfail.add(name.toLowerCase());
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(request: dns2.DnsPacket): dns2.DnsPacket {
    const [question] = request.questions;
    if (!question) return refuse(request, SERVFAIL);
    const qname = question.name.toLowerCase();
    if (this.servfail.has(qname)) return refuse(request, SERVFAIL);
    const { rcode, answers } = lookupZone(this.records, qname, TYPES.get(question.type) ?? '');
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    if (rcode === 'NXDOMAIN') response.header.rcode = NXDOMAIN;
    // Echo the question's spelling of the name: resolvers match answers to the question.
    response.answers = answers.map((r) => resource(r, r.name === qname ? question.name : r.name));
    return response;
  }
}

function refuse(request: dns2.DnsPacket, rcode: number): dns2.DnsPacket {
  const response = Packet.createResponseFromRequest(request);
  response.header.rcode = rcode;
  response.answers = [];
  return response;
}

function resource(record: ZoneRecord, name: string): dns2.Resource {
  const base = { name, type: Packet.TYPE[record.type as keyof typeof Packet.TYPE], class: Packet.CLASS.IN, ttl: 0 };
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return { ...base, address: record.value };
    case 'CNAME':
    case 'PTR':
      return { ...base, domain: record.value };
    case 'MX':
      return { ...base, exchange: record.value, priority: record.priority ?? 0 };
    case 'SRV':
      return {
        ...base,
        priority: record.priority ?? 0,
        weight: record.weight ?? 0,
        port: record.port ?? 0,
        target: record.value,
      };
    case 'TXT':
      // dns2 writes each array item as one character-string, so long values are split first.
      return { ...base, data: splitTxt(record.value) };
    default:
      throw new Error(`the local DNS server does not serve ${record.type}`);
  }
}

/** A UDP socket on 127.0.0.1 that swallows every query: a DNS server that never answers. */
export async function startSilentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

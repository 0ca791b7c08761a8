// The part of dns2 2.1 (which ships no types) that the local test DNS server uses.
declare module 'dns2' {
  import type { RemoteInfo } from 'node:dgram';

  namespace dns2 {
    interface Question {
      name: string;
      type: number;
      class: number;
    }
    interface Resource {
      name: string;
      type: number;
      class: number;
      ttl: number;
      address?: string;
      domain?: string;
      exchange?: string;
      priority?: number;
      weight?: number;
      port?: number;
      target?: string;
      data?: string | Buffer | (string | Buffer)[];
    }
    interface DnsPacket {
      header: { id: number; qr: number; aa: number; rcode: number };
      questions: Question[];
      answers: Resource[];
      authorities: Resource[];
    }
    interface DnsServer {
      listen(options: { udp: { port: number; address: string; type: 'udp4' | 'udp6' } }): Promise<{
        udp: { address: string; port: number };
      }>;
      close(): Promise<void>;
    }
    type Handler = (request: DnsPacket, send: (response: DnsPacket) => Promise<unknown>, client: RemoteInfo) => void;
  }

  const dns2: {
    Packet: {
      TYPE: Record<'A' | 'AAAA' | 'CNAME' | 'MX' | 'TXT' | 'SRV' | 'PTR' | 'NS' | 'SOA', number>;
      CLASS: { IN: number };
      createResponseFromRequest(request: dns2.DnsPacket): dns2.DnsPacket;
    };
    createServer(options: { udp: boolean; handle: dns2.Handler }): dns2.DnsServer;
  };
  export = dns2;
}

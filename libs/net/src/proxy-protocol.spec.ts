import { describe, expect, it } from 'vitest';
import { encodeProxyV2, parseProxyHeader, V2_SIGNATURE, type ProxyParse } from './proxy-protocol';

const v1 = (line: string) => Buffer.from(line, 'latin1');
const v2 = (command: number, familyProtocol: number, body: number[]) => {
  const fixed = Buffer.from([0x20 | command, familyProtocol, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([V2_SIGNATURE, fixed, Buffer.from(body)]);
};
const done = (result: ProxyParse) => {
  if (result.state !== 'done') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return result;
};

describe('parseProxyHeader, v1', () => {
  it('reads TCP4 and says how long the header is, leaving the SMTP command after it', () => {
    const sut = parseProxyHeader(v1('PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\nEHLO x\r\n'));
    expect(done(sut)).toEqual({
      state: 'done',
      length: 44,
      header: {
        version: 1,
        command: 'proxy',
        family: 'tcp4',
        addresses: {
          sourceAddress: '192.0.2.7',
          sourcePort: 51234,
          destinationAddress: '198.51.100.1',
          destinationPort: 25,
        },
      },
    });
  });

  it('reads TCP6 and writes the address in RFC 5952 form', () => {
    const sut = done(parseProxyHeader(v1('PROXY TCP6 2001:DB8:0:0::1 2001:db8::2 4000 993\r\n')));
    expect(sut.header).toMatchObject({ family: 'tcp6', addresses: { sourceAddress: '2001:db8::1', sourcePort: 4000 } });
  });

  it('takes UNKNOWN as the proxy speaking for itself, whatever follows it', () => {
    expect(done(parseProxyHeader(v1('PROXY UNKNOWN\r\n'))).header).toEqual({ version: 1, command: 'local' });
    expect(done(parseProxyHeader(v1('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'))).header.command).toBe('local');
  });

  it.each([
    ['a family it does not know', 'PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n'],
    ['a host name', 'PROXY TCP4 evil.example 198.51.100.1 1 2\r\n'],
    ['an address with a CRLF smuggled in the wrong place', 'PROXY TCP4 192.0.2.7\r\n'],
    ['a port above 65535', 'PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 192.0.2.7 198.51.100.1 025 25\r\n'],
    ['two spaces', 'PROXY TCP4  192.0.2.7 198.51.100.1 1 25\r\n'],
    ['a bare LF', 'PROXY TCP4 192.0.2.7 198.51.100.1 1 25\n'],
    ['an SMTP command instead', 'EHLO client.example\r\n'],
    ['lower case', 'proxy TCP4 192.0.2.7 198.51.100.1 1 25\r\n'],
  ])('refuses %s', (_what, line) => {
    expect(parseProxyHeader(v1(line)).state).toBe('invalid');
  });

  it('refuses a line that reaches 107 bytes without its CRLF, without waiting for more', () => {
    expect(parseProxyHeader(v1(`PROXY UNKNOWN ${'x'.repeat(93)}`)).state).toBe('invalid');
    expect(parseProxyHeader(v1(`PROXY UNKNOWN ${'x'.repeat(92)}`)).state).toBe('incomplete');
  });

  it('refuses a non-PROXY stream at its first byte', () => {
    expect(parseProxyHeader(v1('E')).state).toBe('invalid');
    expect(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01])).state).toBe('invalid');
  });

  it('waits for more on every proper prefix of a header', () => {
    const whole = v1('PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n');
    for (let n = 0; n < whole.length; n++) {
      expect(parseProxyHeader(whole.subarray(0, n)).state, `${n} bytes`).toBe('incomplete');
    }
  });
});

describe('parseProxyHeader, v2', () => {
  const tcp4 = [192, 0, 2, 7, 198, 51, 100, 1, 0xc8, 0x22, 0x01, 0xd1];

  it('reads PROXY over TCP4 and skips TLVs by the length field', () => {
    const tlv = [0x04, 0x00, 0x02, 0xaa, 0xbb]; // PP2_TYPE_NOOP
    const header = v2(1, 0x11, [...tcp4, ...tlv]);
    const sut = done(parseProxyHeader(Buffer.concat([header, Buffer.from('* payload')])));
    expect(sut.length).toBe(header.length);
    expect(sut.header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'tcp4',
      addresses: {
        sourceAddress: '192.0.2.7',
        sourcePort: 51234,
        destinationAddress: '198.51.100.1',
        destinationPort: 465,
      },
    });
  });

  it('reads PROXY over TCP6', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 0x01];
    const dst = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 0x02];
    const sut = done(parseProxyHeader(v2(1, 0x21, [...src, ...dst, 0x00, 0x50, 0x03, 0xe1])));
    expect(sut.header).toEqual({
      version: 2,
      command: 'proxy',
      family: 'tcp6',
      addresses: {
        sourceAddress: '2001:db8::1',
        sourcePort: 80,
        destinationAddress: '2001:db8::2',
        destinationPort: 993,
      },
    });
    expect(sut.length).toBe(16 + 36);
  });

  it('reads LOCAL (a health check) as no client, whatever address block it carries', () => {
    expect(done(parseProxyHeader(v2(0, 0x00, []))).header).toEqual({ version: 2, command: 'local' });
    expect(done(parseProxyHeader(v2(0, 0x11, tcp4))).header).toEqual({ version: 2, command: 'local' });
  });

  it('keeps the socket address for families without a TCP client (UNSPEC, UDP, UNIX)', () => {
    expect(done(parseProxyHeader(v2(1, 0x00, []))).header.command).toBe('local');
    expect(done(parseProxyHeader(v2(1, 0x12, tcp4))).header.command).toBe('local');
    expect(done(parseProxyHeader(v2(1, 0x31, Array<number>(216).fill(0)))).header.command).toBe('local');
  });

  it.each([
    [
      'version 1 in the binary form',
      Buffer.concat([V2_SIGNATURE, Buffer.from([0x11, 0x11, 0, 12]), Buffer.from(tcp4)]),
    ],
    ['an unknown command', v2(2, 0x11, tcp4)],
    ['a TCP4 block shorter than 12 bytes', v2(1, 0x11, tcp4.slice(0, 8))],
    ['a TCP6 block shorter than 36 bytes', v2(1, 0x21, tcp4)],
    ['a damaged signature', Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIT\r'), Buffer.from([0x21, 0x11, 0, 12])])],
  ])('refuses %s', (_what, bytes) => {
    expect(parseProxyHeader(bytes).state).toBe('invalid');
  });

  it('waits for more on every proper prefix, the address block and TLVs included', () => {
    const whole = v2(1, 0x11, [...tcp4, 0x04, 0x00, 0x01, 0x00]);
    for (let n = 0; n < whole.length; n++) {
      expect(parseProxyHeader(whole.subarray(0, n)).state, `${n} bytes`).toBe('incomplete');
    }
    expect(parseProxyHeader(whole).state).toBe('done');
  });

  it('reads back what encodeProxyV2 writes', () => {
    const addresses = {
      sourceAddress: '2001:db8::7',
      sourcePort: 1,
      destinationAddress: '2001:db8::8',
      destinationPort: 2,
    };
    expect(done(parseProxyHeader(encodeProxyV2(addresses))).header).toMatchObject({ family: 'tcp6', addresses });
    expect(done(parseProxyHeader(encodeProxyV2(null))).header.command).toBe('local');
  });
});

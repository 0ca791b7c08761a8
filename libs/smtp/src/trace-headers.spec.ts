import { describe, expect, it } from 'vitest';
import { countReceived, receivedHeader, returnPathHeader, rfc5322Date, type TraceInput } from './trace-headers';

const base: TraceInput = {
  hostname: 'mx.mailroom.test',
  queueId: 'abc123',
  helo: 'client.example',
  clientHostname: null,
  remoteIp: '192.0.2.1',
  protocol: 'ESMTP',
  tls: null,
  recipient: null,
  sender: 'a@client.example',
  now: new Date('2026-11-28T12:00:00Z'),
};

describe('receivedHeader', () => {
  it.each([
    ['names the HELO and address', {}, 'Received: from client.example ([192.0.2.1])'],
    ['marks an IPv6 address', { remoteIp: '2001:db8::1' }, '([IPv6:2001:db8::1])'],
    ['names a resolved client host', { clientHostname: 'host.client.example' }, '(host.client.example [192.0.2.1])'],
    ['ignores an unresolved [literal] host', { clientHostname: '[192.0.2.1]' }, 'from client.example ([192.0.2.1])'],
    ['says unknown without HELO', { helo: null }, 'from unknown ('],
    ['names TLS', { tls: { name: 'TLS_AES_128', version: 'TLSv1.3' } }, '(using TLSv1.3 with cipher TLS_AES_128)'],
    ['names a single recipient', { recipient: 'b@x.example' }, 'for <b@x.example>'],
    ['strips line breaks a client put in HELO', { helo: 'evil\r\nX-Injected: 1' }, 'from evilX-Injected:1 ('],
    ['ends with the date', {}, ';\r\n\tSat, 28 Nov 2026 12:00:00 +0000\r\n'],
  ])('%s', (_name, override, expected) => {
    expect(receivedHeader({ ...base, ...override })).toContain(expected);
  });

  it('names no recipient unless there is exactly one (RFC 5321 §7.2)', () => {
    expect(receivedHeader(base)).not.toContain('for <');
  });
});

describe('trace helpers', () => {
  it.each([
    ['a@b.example', 'Return-Path: <a@b.example>\r\n'],
    ['', 'Return-Path: <>\r\n'],
    ['a@b.example\r\nX: y', 'Return-Path: <a@b.exampleX:y>\r\n'],
  ])('returnPathHeader(%j)', (sender, expected) => {
    expect(returnPathHeader(sender)).toBe(expected);
  });

  it.each([
    ['', 0],
    ['Received: a\r\nreceived: b\r\nSubject: x\r\n', 2],
    ['X-Received: a\r\nSubject: Received: b\r\n', 0],
  ])('countReceived(%j) = %i', (header, count) => {
    expect(countReceived(header)).toBe(count);
  });

  it('formats RFC 5322 dates in UTC', () => {
    expect(rfc5322Date(new Date('2026-01-02T03:04:05Z'))).toBe('Fri, 02 Jan 2026 03:04:05 +0000');
  });
});

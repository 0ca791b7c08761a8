import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { searchText } from './search-text';

describe('searchText', () => {
  it('keeps every header decoded, in order, and the text of the body', async () => {
    const mail = await simpleParser(
      Buffer.from(
        'Received: from a\r\nReceived: from b\r\nFrom: =?UTF-8?Q?J=C3=BCrgen?= <j@x.test>\r\n' +
          'Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n folded\r\nList-Unsubscribe: <mailto:u@x.test>\r\n' +
          'X-Tag: one\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>world</b>\u0000</p>\r\n',
      ),
    );
    const { headers, body } = searchText(mail);
    expect(headers.split('\n')).toEqual([
      'Received: from a',
      'Received: from b',
      'From: "Jürgen" <j@x.test>',
      'Subject: Grüße folded',
      'List-Unsubscribe: <mailto:u@x.test>',
      'X-Tag: one',
      'Content-Type: text/html; charset=utf-8',
    ]);
    expect(body.replace(/\s+/g, ' ').trim()).toBe('Hello world');
  });
});
